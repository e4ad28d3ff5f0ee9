#pragma once
// The settings that shape an engine's state, saved in a small "settings" record just
// before the engine record, so a state is refused by an engine configured otherwise
// instead of being read with the wrong meaning (a state of 60 s windows replayed with
// 30 s windows makes every restored window wrong and most records late). The message
// names the setting and both values.
//
// Checked: window.seconds, window.allowed_lateness_seconds, entities.kinds (in order:
// entity slots are routed by it) and detectors.model. Not checked: what only tunes
// scoring (thresholds, episodes), which may change between runs.
#include <iosfwd>
#include <string>

namespace flowlier::pipeline {

struct EngineConfig;

// Writes the settings record for `config`.
void save_state_settings(std::ostream& out, const EngineConfig& config);

// If `in` starts with a settings record, reads it and compares it with `config`:
// "" when they match, else which setting differs, with both values. A state without
// one (written before this record existed) is left unread and accepted ("").
std::string check_state_settings(std::istream& in, const EngineConfig& config);

}  // namespace flowlier::pipeline
