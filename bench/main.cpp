// utrace_bench: the performance suite (issue 6), run inside a guest.
//
// usage: utrace_bench --module utrace.ko [--quick] [--only B1,B4,...]
//                     [--clock host|icount] [--utracectl PATH]
//                     [--compare-module OTHER.ko]
//
// --clock icount says the guest runs under qemu -icount, so its clock counts
// executed instructions: the wall figures are then labelled "icount".
// --utracectl: the utracectl binary B7 runs (B7 is not measured without).
// --compare-module: B7 also runs utracectl on OTHER.ko (b7_workloads.cpp).
// Loads and unloads the module itself (B1 compares with it not loaded).
// Prints a table, then the results as one JSON line between
// "@@BENCH-JSON-BEGIN@@" and "@@BENCH-JSON-END@@" for bench/bench.py.
// Exits 1 if a benchmark failed (an exception: a missed count, a dead
// child), 2 on usage errors.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <sstream>
#include <string>
#include <sys/utsname.h>
#include <vector>

#include "benchmarks.hpp"

namespace
{

using bench::Ratio;

std::string json_string(const std::string &s)
{
	std::string out = "\"";
	for (const char ch : s) {
		if (ch == '"' || ch == '\\') {
			out += '\\';
			out += ch;
		} else if (static_cast<unsigned char>(ch) < 0x20) {
			char buf[8];
			std::snprintf(buf, sizeof(buf), "\\u%04x", ch);
			out += buf;
		} else {
			out += ch;
		}
	}
	return out + "\"";
}

std::string json_number(double v)
{
	if (!std::isfinite(v))
		return "null";
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%.6g", v);
	return buf;
}

std::string json_opt(const std::optional<double> &v)
{
	return v ? json_number(*v) : "null";
}

std::string to_json(const Ratio &r, const bench::Config &c)
{
	std::ostringstream o;
	o << "{\"id\":" << json_string(r.id) << ",\"title\":" << json_string(r.title)
	  << ",\"better\":" << json_string(r.better) << ",\"target\":" << json_opt(r.target)
	  << ",\"status\":" << json_string(r.status)
	  << ",\"value\":" << json_opt(bench::primary(r, c))
	  << ",\"basis\":" << json_string(bench::basis(r, c)) << ",\"wall\":" << json_opt(r.wall)
	  << ",\"wall_q1\":" << json_opt(r.wall_q1) << ",\"wall_q3\":" << json_opt(r.wall_q3)
	  << ",\"instructions\":" << json_opt(r.instructions) << ",\"note\":" << json_string(r.note)
	  << ",\"details\":{";
	for (size_t i = 0; i < r.details.size(); i++)
		o << (i ? "," : "") << json_string(r.details[i].first) << ":"
		  << json_number(r.details[i].second);
	o << "}}";
	return o.str();
}

std::string fmt(const std::optional<double> &v, const char *f = "%.3f")
{
	if (!v || !std::isfinite(*v))
		return "-";
	char buf[32];
	std::snprintf(buf, sizeof(buf), f, *v);
	return buf;
}

void print_table(const std::vector<Ratio> &rs, const bench::Config &c)
{
	std::printf("%-18s %-8s %-8s %-17s %-12s %s\n", "benchmark", "ratio", "target",
	            (c.clock + " [q1,q3]").c_str(), "instructions", "status");
	for (const auto &r : rs) {
		const std::string target =
		        r.target ? (r.better == "lower" ? "<= " : ">= ") + fmt(r.target, "%.2f")
		                 : "-";
		const std::string wall = fmt(r.wall) + " [" + fmt(r.wall_q1, "%.2f") + "," +
		                         fmt(r.wall_q3, "%.2f") + "]";
		std::printf("%-18s %-8s %-8s %-17s %-12s %s\n", r.id.c_str(),
		            fmt(bench::primary(r, c)).c_str(), target.c_str(),
		            r.measured() ? wall.c_str() : "-", fmt(r.instructions).c_str(),
		            r.status.c_str());
	}
}

bool wanted(const bench::Config &c, const std::string &id)
{
	if (c.only.empty())
		return true;
	for (const auto &o : c.only)
		if (o == id)
			return true;
	return false;
}

} // namespace

int main(int argc, char **argv)
{
	bool quick = false;
	std::string clock = "host";
	std::string module;
	std::string utracectl;
	std::string compare;
	std::vector<std::string> only;
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		if (a == "--quick") {
			quick = true;
		} else if (a == "--clock" && i + 1 < argc) {
			clock = argv[++i];
		} else if (a == "--module" && i + 1 < argc) {
			module = argv[++i];
		} else if (a == "--utracectl" && i + 1 < argc) {
			utracectl = argv[++i];
		} else if (a == "--compare-module" && i + 1 < argc) {
			compare = argv[++i];
		} else if (a == "--only" && i + 1 < argc) {
			std::stringstream ss(argv[++i]);
			for (std::string id; std::getline(ss, id, ',');)
				only.push_back(id);
		} else {
			std::fprintf(stderr, "usage: utrace_bench --module utrace.ko [--quick] "
			                     "[--only B1,B2,...] [--clock host|icount] "
			                     "[--utracectl PATH] [--compare-module KO]\n");
			return 2;
		}
	}
	if (module.empty()) {
		std::fprintf(stderr, "utrace_bench: --module PATH is required\n");
		return 2;
	}
	bench::Config c = bench::Config::make(quick);
	c.module_path = module;
	c.only = only;
	c.clock = clock;
	c.utracectl_path = utracectl;
	c.compare_module = compare;

	const std::vector<std::pair<std::string, bench::Benchmark>> all = {
	        {"B1", bench::b1_untraced},          {"B2", bench::b2_engine_vs_bpf},
	        {"B3", bench::b3_ptrace_round_trip}, {"B4", bench::b4_observe},
	        {"B5", bench::b5_metrics},           {"B6", bench::b6_scaling},
	        {"B7", bench::b7_workloads},
	};
	std::vector<Ratio> results;
	bool failed = false;
	for (const auto &[id, run] : all) {
		if (!wanted(c, id))
			continue;
		bench::log("running " + id);
		const auto t0 = std::chrono::steady_clock::now();
		try {
			auto rs = run(c);
			results.insert(results.end(), rs.begin(), rs.end());
			const std::chrono::duration<double> took =
			        std::chrono::steady_clock::now() - t0;
			bench::log(id + " took " + std::to_string(took.count()).substr(0, 5) +
			           " s");
		} catch (const std::exception &e) {
			bench::log(id + " failed: " + e.what());
			results.push_back({.id = id, .status = std::string("failed: ") + e.what()});
			failed = true;
		}
	}
	try {
		bench::ensure_unloaded();
	} catch (const std::exception &e) {
		bench::log(std::string("unloading utrace failed: ") + e.what());
		failed = true;
	}

	print_table(results, c);
	utsname u{};
	::uname(&u);
	std::printf("@@BENCH-JSON-BEGIN@@\n{\"arch\":%s,\"mode\":%s,\"clock\":%s,\"kernel\":%s,"
	            "\"instructions_counted\":%s,\"loop_iterations\":%llu,\"reps\":%u,"
	            "\"ratios\":[",
	            json_string(u.machine).c_str(), json_string(quick ? "quick" : "full").c_str(),
	            json_string(c.clock).c_str(), json_string(u.release).c_str(),
	            bench::Counter::supported() ? "true" : "false",
	            static_cast<unsigned long long>(c.loop_iterations), c.reps);
	for (size_t i = 0; i < results.size(); i++)
		std::printf("%s%s", i ? "," : "", to_json(results[i], c).c_str());
	std::printf("]}\n@@BENCH-JSON-END@@\n");
	return failed ? 1 : 0;
}
