#include "utrace/events.hpp"

#include <array>
#include <cerrno>
#include <utility>

#include "utrace/error.hpp"

namespace utrace
{

namespace
{

constexpr std::array<std::string_view, kNumEvents> kEventNames = {
        "quiesce",     "reap",          "clone",        "exec",   "exit",
        "death",       "syscall-entry", "syscall-exit", "signal", "signal-ign",
        "signal-stop", "signal-term",   "signal-core",  "jctl",
};

constexpr EventMask kSignalAll = bit(Event::Signal) | bit(Event::SignalIgn) |
                                 bit(Event::SignalStop) | bit(Event::SignalTerm) |
                                 bit(Event::SignalCore);

constexpr std::array<std::pair<std::string_view, EventMask>, 4> kGroups = {{
        {"syscall", bit(Event::SyscallEntry) | bit(Event::SyscallExit)},
        {"signal-all", kSignalAll},
        {"lifecycle", bit(Event::Clone) | bit(Event::Exec) | bit(Event::Exit) | bit(Event::Death) |
                              bit(Event::Reap)},
        {"all", (EventMask{1} << kNumEvents) - 1},
}};

constexpr std::array<std::string_view, 7> kActionNames = {
        "stop", "interrupt", "report", "singlestep", "blockstep", "resume", "detach",
};

std::string known_words()
{
	std::string s;
	for (auto n : kEventNames)
		s += std::string(s.empty() ? "" : ", ") + std::string(n);
	for (const auto &g : kGroups)
		s += ", " + std::string(g.first);
	return s;
}

EventMask lookup(std::string_view word)
{
	for (unsigned i = 0; i < kNumEvents; i++)
		if (kEventNames[i] == word)
			return EventMask{1} << i;
	for (const auto &g : kGroups)
		if (g.first == word)
			return g.second;
	throw Error(EINVAL,
	            "unknown event '" + std::string(word) + "' (known: " + known_words() + ")");
}

std::string trim(std::string_view s)
{
	const auto b = s.find_first_not_of(" \t");
	if (b == std::string_view::npos)
		return "";
	const auto e = s.find_last_not_of(" \t");
	return std::string(s.substr(b, e - b + 1));
}

} // namespace

std::string_view event_name(Event e)
{
	return kEventNames.at(static_cast<unsigned>(e));
}

EventMask parse_events(std::string_view list)
{
	EventMask mask = 0;
	size_t start = 0;
	while (start <= list.size()) {
		const size_t comma = list.find(',', start);
		const std::string word = trim(list.substr(start, comma == std::string_view::npos
		                                                         ? list.size() - start
		                                                         : comma - start));
		if (word.empty())
			throw Error(EINVAL, "empty event name in '" + std::string(list) + "'");
		if (word != "none")
			mask |= lookup(word);
		if (comma == std::string_view::npos)
			break;
		start = comma + 1;
	}
	return mask;
}

EventMask edit_events(EventMask mask, const std::vector<std::string> &edits)
{
	for (const auto &edit : edits) {
		if (edit.empty())
			throw Error(EINVAL, "empty event edit");
		if (edit[0] == '-')
			mask &= ~parse_events(std::string_view(edit).substr(1));
		else if (edit[0] == '+')
			mask |= parse_events(std::string_view(edit).substr(1));
		else
			mask |= parse_events(edit);
	}
	return mask;
}

std::string format_events(EventMask mask)
{
	std::string s;
	for (unsigned i = 0; i < kNumEvents; i++)
		if (mask & (EventMask{1} << i))
			s += std::string(s.empty() ? "" : ",") + std::string(kEventNames[i]);
	return s.empty() ? "none" : s;
}

Action parse_action(std::string_view name)
{
	for (unsigned i = 0; i < kActionNames.size(); i++)
		if (kActionNames[i] == name)
			return static_cast<Action>(i);
	std::string known;
	for (auto n : kActionNames)
		known += std::string(known.empty() ? "" : ", ") + std::string(n);
	throw Error(EINVAL, "unknown action '" + std::string(name) + "' (known: " + known + ")");
}

std::string_view action_name(Action a)
{
	return kActionNames.at(static_cast<unsigned>(a));
}

EngineType parse_engine_type(std::string_view name)
{
	if (name == "count")
		return EngineType::Count;
	if (name == "stopper")
		return EngineType::Stopper;
	if (name == "user")
		return EngineType::User;
	throw Error(EINVAL, "unknown engine type '" + std::string(name) +
	                            "' (known: count, stopper, user)");
}

std::string_view engine_type_name(EngineType t)
{
	switch (t) {
	case EngineType::Count:
		return "count";
	case EngineType::Stopper:
		return "stopper";
	case EngineType::User:
		return "user";
	}
	return "unknown";
}

std::string_view engine_state_name(EngineState s)
{
	switch (s) {
	case EngineState::Attached:
		return "attached";
	case EngineState::Stopped:
		return "stopped";
	case EngineState::Dead:
		return "dead";
	case EngineState::Gone:
		return "gone";
	}
	return "unknown";
}

} // namespace utrace
