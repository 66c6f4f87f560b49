// B6, scaling: the cost of one report as engines per task grow (1, 4, 16,
// 64 count engines on the worker) and as traced tasks grow (the worker plus
// 0, 9, 99, 999 idle threads of another process, one count engine each).
//
// Cost per report = (loop time with the engines - untraced loop time) /
// (reports in the loop: 2 per system call per engine); each point is
// reported as a ratio to the first point (1 engine, 1 task).  Flat means no
// point costs more than kFlat times the first: a cost per report that falls
// (the slow-path entry shared by more engines) is flat or better.
#include <algorithm>
#include <string>

#include "benchmarks.hpp"

namespace bench
{

namespace
{

constexpr double kFlat = 1.25;

const utrace::EventMask kSyscalls =
        utrace::bit(utrace::Event::SyscallEntry) | utrace::bit(utrace::Event::SyscallExit);

struct Point {
	std::string name;
	unsigned engines; // engines on the worker
};

// Ratios of each point's cost per report to the first point's.
std::vector<Ratio> ratios(const Config &c, const std::string &series, const std::string &what,
                          const std::vector<Point> &points, const Samples &s)
{
	const auto &u = s.at("untraced");
	const double calls = 2.0 * static_cast<double>(c.loop_iterations);
	const auto per_report = [&](const Point &p, bool instructions) {
		const auto x = instructions ? instrs(s.at(p.name)) : walls(s.at(p.name));
		const auto base = instructions ? instrs(u) : walls(u);
		std::vector<double> v = base.empty() ? base : minus(x, base);
		for (auto &d : v)
			d /= calls * 2 * p.engines; // an entry and an exit report
		return v;
	};
	std::vector<Ratio> out;
	const Point &first = points.front();
	bool flat = true;
	for (const auto &p : points) {
		Ratio r{.id = "B6." + series + "." + p.name,
		        .title = "cost per report, " + what + " " + p.name + " / " + first.name,
		        .better = "lower"};
		set_ratio(r, per_report(p, false), per_report(first, false), per_report(p, true),
		          per_report(first, true), Pairing::OfMedians);
		r.details = {{"ns_per_report", median(per_report(p, false))}};
		if (!instrs(u).empty())
			r.details.emplace_back("instructions_per_report",
			                       median(per_report(p, true)));
		const double v = *primary(r, c);
		flat = flat && v <= kFlat;
		out.push_back(r);
	}
	out.erase(out.begin()); // the first point is 1 by definition
	for (auto &r : out)
		r.note = std::string(flat ? "flat" : "not flat") + ": no point above " +
		         std::to_string(kFlat).substr(0, 4) + "x of " + first.name +
		         "'s cost per report";
	return out;
}

std::vector<Ratio> engines_per_task(const Config &c)
{
	const Worker worker;
	const utrace::Device dev;
	std::vector<uint64_t> ids;
	const auto loop = [&] { return worker.loop(c.loop_iterations); };
	std::vector<Variant> variants{{.name = "untraced", .measure = loop}};
	std::vector<Point> points;
	for (const unsigned k : c.engines_per_task) {
		points.push_back({std::to_string(k), k});
		variants.push_back(
		        {.name = std::to_string(k),
		         .setup =
		                 [&, k] {
			                 for (unsigned i = 0; i < k; i++)
				                 ids.push_back(dev.attach(worker.pid(),
				                                          utrace::EngineType::Count,
				                                          kSyscalls));
		                 },
		         .measure = loop,
		         .teardown = [&] { detach_all(dev, ids); }});
	}
	const Samples s = interleave(variants, c.reps);
	return ratios(c, "engines", "engines per task", points, s);
}

std::vector<Ratio> traced_tasks(const Config &c)
{
	const Worker worker;
	const unsigned most = *std::max_element(c.traced_tasks.begin(), c.traced_tasks.end());
	const Idlers others(Idlers::Kind::Threads, most - 1);
	const utrace::Device dev;
	std::vector<uint64_t> ids;
	const auto loop = [&] { return worker.loop(c.loop_iterations); };
	std::vector<Variant> variants{{.name = "untraced", .measure = loop}};
	std::vector<Point> points;
	for (const unsigned n : c.traced_tasks) {
		points.push_back({std::to_string(n), 1});
		variants.push_back(
		        {.name = std::to_string(n),
		         .setup =
		                 [&, n] {
			                 ids.push_back(dev.attach(worker.pid(),
			                                          utrace::EngineType::Count,
			                                          kSyscalls));
			                 for (unsigned i = 0; i + 1 < n; i++)
				                 ids.push_back(dev.attach(others.tids().at(i),
				                                          utrace::EngineType::Count,
				                                          kSyscalls));
		                 },
		         .measure = loop,
		         .teardown = [&] { detach_all(dev, ids); }});
	}
	const Samples s = interleave(variants, c.reps);
	return ratios(c, "tasks", "traced tasks", points, s);
}

} // namespace

std::vector<Ratio> b6_scaling(const Config &c)
{
	ensure_loaded(c);
	auto out = engines_per_task(c);
	auto more = traced_tasks(c);
	out.insert(out.end(), more.begin(), more.end());
	return out;
}

} // namespace bench
