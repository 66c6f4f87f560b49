// Event names and event-mask expressions, as utracectl accepts them:
//   "syscall,exec"          a list of names and groups
//   "+exec -syscall-exit"   edits of an existing mask
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "utrace/device.hpp"

namespace utrace
{

// "quiesce", "syscall-entry", ... for each event.
std::string_view event_name(Event e);

// Groups: "syscall" (entry, exit), "signal-all" (the five signal events),
// "lifecycle" (clone, exec, exit, death, reap), "all".
// Throws Error(EINVAL) naming the unknown word and the known ones.
EventMask parse_events(std::string_view list);

// Applies "+name", "-name" (names or groups; a bare name means "+name") to
// @mask.  Throws Error(EINVAL) as parse_events.
EventMask edit_events(EventMask mask, const std::vector<std::string> &edits);

// "syscall-entry,syscall-exit" (groups are not folded back); "none" for 0.
std::string format_events(EventMask mask);

// "stop", "resume", ... to Action; throws Error(EINVAL).
Action parse_action(std::string_view name);
std::string_view action_name(Action a);

// "count", "stopper", "user" to EngineType; throws Error(EINVAL).
EngineType parse_engine_type(std::string_view name);
std::string_view engine_type_name(EngineType t);
std::string_view engine_state_name(EngineState s);

} // namespace utrace
