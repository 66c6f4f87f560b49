#include "compare.hpp"

#include <fnmatch.h>
#include <sstream>
#include <stdexcept>

namespace conf
{

static std::string trim(const std::string &s)
{
	size_t b = s.find_first_not_of(" \t");
	size_t e = s.find_last_not_of(" \t\r");
	return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<Rule> parse_rules(const std::string &text)
{
	std::vector<Rule> rules;
	std::istringstream in(text);
	std::string raw;
	int lineno = 0;
	while (std::getline(in, raw)) {
		lineno++;
		std::string line = trim(raw);
		if (line.empty() || line[0] == '#')
			continue;
		auto fail = [lineno](const std::string &why) {
			throw std::runtime_error("DIFFERENCES:" + std::to_string(lineno) + ": " +
			                         why);
		};
		Rule r;
		r.lineno = lineno;
		size_t sp = line.find_first_of(" \t");
		if (sp == std::string::npos)
			fail("expected ARCH/SCENARIO ACTION /REGEX/ REASON");
		r.glob = line.substr(0, sp);
		if (r.glob.find('/') == std::string::npos)
			fail("the key must be ARCH/SCENARIO (ARCH may be *)");
		std::string rest = trim(line.substr(sp));
		sp = rest.find_first_of(" \t");
		if (sp == std::string::npos)
			fail("expected ACTION /REGEX/ REASON");
		std::string action = rest.substr(0, sp);
		if (action == "drop")
			r.drop = true;
		else if (action != "mask")
			fail("unknown action '" + action + "' (mask or drop)");
		rest = trim(rest.substr(sp));
		if (rest.empty() || rest[0] != '/')
			fail("the pattern must be written /REGEX/");
		size_t i = 1;
		for (; i < rest.size(); i++) {
			if (rest[i] == '\\' && i + 1 < rest.size() && rest[i + 1] == '/') {
				r.pattern += '/';
				i++;
			} else if (rest[i] == '/') {
				break;
			} else {
				r.pattern += rest[i];
			}
		}
		if (i >= rest.size())
			fail("unterminated /REGEX/");
		r.reason = trim(rest.substr(i + 1));
		if (r.reason.empty())
			fail("every difference needs a reason");
		try {
			r.re = std::regex(r.pattern);
		} catch (const std::regex_error &e) {
			fail("bad regex /" + r.pattern + "/: " + e.what());
		}
		rules.push_back(std::move(r));
	}
	return rules;
}

std::vector<std::string> apply_rules(const std::vector<Rule> &rules, const std::string &key,
                                     const std::vector<std::string> &lines, std::vector<bool> *used)
{
	std::vector<std::string> out;
	for (const auto &line : lines) {
		std::string cur = line;
		bool dropped = false;
		for (size_t i = 0; i < rules.size() && !dropped; i++) {
			const Rule &r = rules[i];
			if (fnmatch(r.glob.c_str(), key.c_str(), 0) != 0)
				continue;
			if (!std::regex_search(cur, r.re))
				continue;
			if (used) {
				used->resize(rules.size());
				(*used)[i] = true;
			}
			if (r.drop)
				dropped = true;
			else
				cur = std::regex_replace(cur, r.re, "<intentional>");
		}
		if (!dropped)
			out.push_back(cur);
	}
	return out;
}

std::string unified_diff(const std::vector<std::string> &a, const std::vector<std::string> &b,
                         const std::string &name_a, const std::string &name_b)
{
	if (a == b)
		return "";
	// LCS table; traces are short (tens to hundreds of lines).
	const size_t n = a.size(), m = b.size();
	std::vector<std::vector<unsigned>> lcs(n + 1, std::vector<unsigned>(m + 1, 0));
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1
			                         : std::max(lcs[i + 1][j], lcs[i][j + 1]);
	// The edit script: ' ', '-', '+' with line indexes.
	struct Op {
		char kind;
		size_t ia, ib;
	};
	std::vector<Op> ops;
	size_t i = 0, j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && a[i] == b[j]) {
			ops.push_back({' ', i++, j++});
		} else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
			ops.push_back({'-', i++, j}); // deletions before insertions
		} else {
			ops.push_back({'+', i, j++});
		}
	}
	const size_t ctx = 3;
	std::ostringstream out;
	out << "--- " << name_a << "\n+++ " << name_b << "\n";
	size_t k = 0;
	while (k < ops.size()) {
		if (ops[k].kind == ' ') {
			k++;
			continue;
		}
		// A hunk: from ctx lines before this change to ctx lines after
		// the last change that is closer than 2*ctx to the previous.
		size_t start = k >= ctx ? k - ctx : 0;
		size_t end = k;
		size_t last = k;
		while (end < ops.size()) {
			if (ops[end].kind != ' ')
				last = end;
			else if (end - last > 2 * ctx)
				break;
			end++;
		}
		end = std::min(ops.size(), last + ctx + 1);
		size_t a0 = ops[start].ia, b0 = ops[start].ib, na = 0, nb = 0;
		for (size_t q = start; q < end; q++) {
			na += ops[q].kind != '+';
			nb += ops[q].kind != '-';
		}
		out << "@@ -" << (na ? a0 + 1 : a0) << "," << na << " +" << (nb ? b0 + 1 : b0)
		    << "," << nb << " @@\n";
		for (size_t q = start; q < end; q++) {
			const Op &op = ops[q];
			out << op.kind << (op.kind == '+' ? b[op.ib] : a[op.ia]) << "\n";
		}
		k = end;
	}
	return out.str();
}

Traces parse_traces(const std::string &text)
{
	Traces t;
	std::istringstream in(text);
	std::string line;
	std::vector<std::string> *cur = nullptr;
	while (std::getline(in, line)) {
		if (line.rfind("=== ", 0) == 0) {
			cur = &t[line.substr(4)];
			cur->clear();
		} else if (cur) {
			cur->push_back(line);
		}
	}
	return t;
}

Comparison compare(const Traces &a, const Traces &b, const std::vector<Rule> &rules,
                   const std::string &arch, const std::string &name_a, const std::string &name_b)
{
	Comparison c;
	std::vector<bool> used(rules.size());
	std::map<std::string, bool> names;
	for (const auto &[k, v] : a)
		names[k] = true;
	for (const auto &[k, v] : b)
		names[k] = true;
	for (const auto &[name, unused] : names) {
		auto ia = a.find(name), ib = b.find(name);
		std::string key = arch + "/" + name;
		if (ia == a.end() || ib == b.end()) {
			c.mismatched.push_back(name);
			c.report += "scenario " + name + " ran only under " +
			            (ia == a.end() ? name_b : name_a) + "\n";
			continue;
		}
		auto la = apply_rules(rules, key, ia->second, &used);
		auto lb = apply_rules(rules, key, ib->second, &used);
		std::string d = unified_diff(la, lb, name_a + "/" + name, name_b + "/" + name);
		if (!d.empty()) {
			c.mismatched.push_back(name);
			c.report += d;
		}
	}
	used.resize(rules.size());
	for (size_t i = 0; i < rules.size(); i++)
		if (!used[i])
			c.unused_rules.push_back(rules[i].lineno);
	return c;
}

} // namespace conf
