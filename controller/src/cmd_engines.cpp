// utracectl attach / engines / events / control / detach
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "commands.hpp"
#include "process.hpp"
#include "utrace/device.hpp"
#include "utrace/error.hpp"
#include "utrace/events.hpp"

namespace utracectl
{

namespace
{

using utrace::EngineId;
using utrace::EngineInfo;

nlohmann::json info_json(const EngineInfo &i)
{
	nlohmann::json counts = nlohmann::json::object();
	for (unsigned e = 0; e < utrace::kNumEvents; e++)
		if (i.counts[e])
			counts[std::string(utrace::event_name(static_cast<utrace::Event>(e)))] =
			        i.counts[e];
	return {{"id", i.id},
	        {"tid", i.tid},
	        {"engine", utrace::engine_type_name(i.type)},
	        {"state", utrace::engine_state_name(i.state)},
	        {"events", utrace::format_events(i.events)},
	        {"stop_events", utrace::format_events(i.stop_events)},
	        {"stops", i.stops},
	        {"persistent", i.lifetime == utrace::Lifetime::Persistent},
	        {"owner_uid", i.owner_uid},
	        {"counts", counts}};
}

void print_table(const std::vector<EngineInfo> &infos)
{
	std::printf("%-4s %-7s %-8s %-9s %-6s %-6s %s\n", "ID", "TID", "ENGINE", "STATE", "OWNER",
	            "STOPS", "EVENTS (reports)");
	for (const auto &i : infos) {
		std::string events;
		for (unsigned e = 0; e < utrace::kNumEvents; e++) {
			const auto ev = static_cast<utrace::Event>(e);
			if (!(i.events & utrace::bit(ev)) && !i.counts[e])
				continue;
			events += std::string(events.empty() ? "" : " ") +
			          std::string(utrace::event_name(ev)) + "=" +
			          std::to_string(i.counts[e]);
		}
		std::printf("%-4llu %-7d %-8s %-9s %-6u %-6llu %s\n",
		            static_cast<unsigned long long>(i.id), i.tid,
		            std::string(utrace::engine_type_name(i.type)).c_str(),
		            std::string(utrace::engine_state_name(i.state)).c_str(), i.owner_uid,
		            static_cast<unsigned long long>(i.stops),
		            events.empty() ? "-" : events.c_str());
	}
}

struct AttachOpts {
	std::optional<pid_t> pid;
	std::optional<pid_t> tid;
	std::string engine = "count";
	std::string events = "syscall,lifecycle";
	std::string stop_events = "none";
	std::vector<std::string> command;
	bool json = false;
};

// Starts @argv stopped on a pipe, attaches, lets it exec, waits for it.
int run_command(const utrace::Device &dev, const AttachOpts &o, utrace::EngineType type,
                utrace::EventMask events, utrace::EventMask stops)
{
	HeldCommand child(o.command, "", "utracectl");
	// Owned by this open file: it goes with utracectl if utracectl dies.
	const EngineId id = dev.attach(child.pid(), type, events, stops, utrace::Lifetime::File);
	if (!o.json)
		std::fprintf(stderr, "utracectl: engine %llu (%s) attached to %d: %s\n",
		             static_cast<unsigned long long>(id), o.engine.c_str(), child.pid(),
		             o.command[0].c_str());
	child.go("start the command");
	const int exit_code = child.wait();
	const EngineInfo info = dev.info(id);
	dev.detach(id);
	if (o.json)
		std::printf("%s\n", info_json(info).dump(2).c_str());
	else
		print_table({info});
	return exit_code;
}

} // namespace

void add_engine_commands(CLI::App &app, int &exit_code)
{
	auto o = std::make_shared<AttachOpts>();
	auto *attach = app.add_subcommand(
	        "attach", "Attach an engine to a thread, every thread of a process, or a new "
	                  "command (then wait for it and print what the engine saw)");
	auto *pid_opt = attach->add_option("--pid,-p", o->pid, "Every thread of this process");
	auto *tid_opt = attach->add_option("--tid,-t", o->tid, "This thread");
	attach->add_option("--engine,-e", o->engine, "Engine type: count, stopper")
	        ->capture_default_str();
	attach->add_option("--events", o->events,
	                   "Events: names (quiesce, reap, clone, exec, exit, death, "
	                   "syscall-entry, syscall-exit, signal, signal-ign, signal-stop, "
	                   "signal-term, signal-core, jctl) and groups (syscall, signal-all, "
	                   "lifecycle, all), comma-separated")
	        ->capture_default_str();
	attach->add_option("--stop-events", o->stop_events,
	                   "stopper: events at which the thread stops")
	        ->capture_default_str();
	attach->add_flag("--json", o->json, "Print JSON");
	auto *cmd_opt = attach->add_option("command", o->command, "Command to start (after --)");
	pid_opt->excludes(tid_opt)->excludes(cmd_opt);
	tid_opt->excludes(cmd_opt);
	attach->callback([o, &exit_code] {
		const auto type = utrace::parse_engine_type(o->engine);
		if (type == utrace::EngineType::User)
			throw utrace::Error(EINVAL, "user engines live only as long as the process "
			                            "reading their reports; attach them with "
			                            "libutrace, not utracectl");
		const auto events = utrace::parse_events(o->events);
		const auto stops = utrace::parse_events(o->stop_events);
		if (!o->pid && !o->tid && o->command.empty())
			throw utrace::Error(EINVAL, "attach: give --pid, --tid or -- COMMAND");
		const utrace::Device dev;
		if (!o->command.empty()) {
			exit_code = run_command(dev, *o, type, events, stops);
			return;
		}
		const std::vector<pid_t> tids =
		        o->tid ? std::vector<pid_t>{*o->tid} : threads_of(*o->pid);
		nlohmann::json out = nlohmann::json::array();
		for (const pid_t tid : tids) {
			// Outlives utracectl: `engines`, `control` and `detach` find it
			// later, as this user or as root.
			const EngineId id =
			        dev.attach(tid, type, events, stops, utrace::Lifetime::Persistent);
			out.push_back({{"id", id}, {"tid", tid}});
			if (!o->json)
				std::printf("engine %llu attached to thread %d\n",
				            static_cast<unsigned long long>(id), tid);
		}
		if (o->json)
			std::printf("%s\n", out.dump(2).c_str());
	});

	auto json = std::make_shared<bool>(false);
	auto *engines = app.add_subcommand(
	        "engines", "List the engines attached by 'utracectl attach' (persistent ones) of "
	                   "your effective uid, or of every user as root");
	engines->add_flag("--json", *json, "Print JSON");
	engines->callback([json] {
		const utrace::Device dev;
		std::vector<EngineInfo> infos;
		for (const EngineId id : dev.list())
			infos.push_back(dev.info(id));
		if (*json) {
			nlohmann::json out = nlohmann::json::array();
			for (const auto &i : infos)
				out.push_back(info_json(i));
			std::printf("%s\n", out.dump(2).c_str());
			return;
		}
		print_table(infos);
	});

	struct EventsOpts {
		EngineId id = 0;
		std::vector<std::string> edits;
	};
	auto eo = std::make_shared<EventsOpts>();
	auto *events = app.add_subcommand(
	        "events",
	        "Change an engine's event mask: +NAME adds, -NAME removes (names or groups)");
	events->add_option("id", eo->id, "Engine id")->required();
	// Edits start with '-': take them, in order, as extras, not as options.
	events->allow_extras();
	events->footer("Example: utracectl events 3 +exec -syscall-exit");
	events->callback([eo, events] {
		eo->edits = events->remaining();
		if (eo->edits.empty())
			throw utrace::Error(EINVAL, "events: give edits, e.g. +exec -syscall-exit");
		const utrace::Device dev;
		const auto mask = utrace::edit_events(dev.info(eo->id).events, eo->edits);
		dev.set_events(eo->id, mask);
		std::printf("engine %llu events: %s\n", static_cast<unsigned long long>(eo->id),
		            utrace::format_events(mask).c_str());
	});

	struct ControlOpts {
		EngineId id = 0;
		std::string action;
	};
	auto co = std::make_shared<ControlOpts>();
	auto *control = app.add_subcommand(
	        "control",
	        "Act on an engine's thread: stop, resume, interrupt, report, singlestep, "
	        "blockstep, detach");
	control->add_option("id", co->id, "Engine id")->required();
	control->add_option("action", co->action, "Action")->required();
	control->callback([co] {
		const utrace::Device dev;
		const auto action = utrace::parse_action(co->action);
		const int r = dev.control(co->id, action);
		std::printf("engine %llu: %s%s\n", static_cast<unsigned long long>(co->id),
		            co->action.c_str(), r == EINPROGRESS ? " (in progress)" : "");
	});

	auto did = std::make_shared<EngineId>(0);
	auto *detach = app.add_subcommand("detach", "Detach an engine");
	detach->add_option("id", *did, "Engine id")->required();
	detach->callback([did] {
		const utrace::Device dev;
		dev.detach(*did);
		std::printf("engine %llu detached\n", static_cast<unsigned long long>(*did));
	});
}

} // namespace utracectl
