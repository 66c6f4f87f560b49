// The comparator: traces of two runs, the intentional differences listed in
// tests/conformance/DIFFERENCES, and a unified diff per mismatching scenario.
// Host-testable: nothing here runs ptrace.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace conf
{

// One entry of DIFFERENCES:
//   ARCH/SCENARIO-GLOB  ACTION  /REGEX/  REASON
// ACTION "mask": the text the regex matches is replaced by "<intentional>" in
// both traces' lines; "drop": lines it matches are removed from both.
struct Rule {
	std::string glob; // fnmatch pattern against "arch/scenario"
	bool drop = false;
	std::string pattern;
	std::regex re;
	std::string reason;
	int lineno = 0;
};

// Parses DIFFERENCES; throws std::runtime_error naming the line on an error
// (no reason, bad regex, unknown action).
std::vector<Rule> parse_rules(const std::string &text);

// The lines of one scenario's trace after the rules that apply to it.
// used[i] is set for each rule that changed a line.
std::vector<std::string> apply_rules(const std::vector<Rule> &rules, const std::string &key,
                                     const std::vector<std::string> &lines,
                                     std::vector<bool> *used = nullptr);

// A unified diff (3 lines of context); empty when a == b.
std::string unified_diff(const std::vector<std::string> &a, const std::vector<std::string> &b,
                         const std::string &name_a, const std::string &name_b);

// Traces of one run: scenario name -> lines, in run order.
using Traces = std::map<std::string, std::vector<std::string>>;

// Parses the output of "conformance run": "=== NAME" starts a scenario.
Traces parse_traces(const std::string &text);

struct Comparison {
	std::vector<std::string> mismatched; // scenario names
	std::string report;                  // unified diffs
	std::vector<int> unused_rules;       // DIFFERENCES line numbers
};

// Compares two runs scenario by scenario (arch names the keys for rules).
Comparison compare(const Traces &a, const Traces &b, const std::vector<Rule> &rules,
                   const std::string &arch, const std::string &name_a, const std::string &name_b);

} // namespace conf
