#pragma once
// Where an Intake and its N Engines keep their state, for every driver (`run`, `replay`):
//
//   PATH                  the engine's state, when there is one engine
//   PATH.shard-K-of-N     engine K's state, when there are N > 1
//   PATH.intake           the intake's learned interfaces and watermark
//
// Entities are split among engines by hash, so the states of N engines can be neither
// split nor joined: a restart uses the number of engines that wrote them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace flowlier::pipeline {

class Engine;
class IntakeRouter;

// The state file of engine `index` of `count`: PATH for one engine, suffixed for more.
std::string shard_state_path(const std::string& path, std::uint32_t index, std::uint32_t count);
std::string intake_state_path(const std::string& path);

// How many engines wrote the states at `path` (0: none there, or `path` empty). Sets
// `error` when states of different engine counts lie there.
std::uint32_t written_engine_count(const std::string& path, std::string& error);

// The number of engines to run: `configured`, or with 0 (automatic) the number that wrote
// the states at `path`, else one per core up to `max_auto`. A configured number that
// differs from the states' is an error naming `option` (how the user sets it).
std::uint32_t choose_engine_count(std::uint32_t configured, const std::string& path, std::uint32_t max_auto,
                                  const std::string& option, std::string& error);

// Writes `state` (an Engine or an IntakeRouter) to `path` atomically: a temp file beside
// it, then rename. Returns why it failed, or "".
template <typename State>
std::string write_state_file(const State& state, const std::string& path);

// Restores `state` from `path`; "" or why not (the state is then unchanged).
template <typename State>
std::string read_state_file(State& state, const std::string& path);

// Restores the intake from PATH.intake when the engines were restored too (beside fresh
// engines it would route with interfaces learnt from traffic they never saw: `note`
// says it was ignored), then moves its watermark on to the engines' (a kill -9 may have
// left its state older than theirs). "" or why the intake state is unreadable.
std::string restore_intake(IntakeRouter& intake, const std::string& path,
                           const std::vector<std::unique_ptr<Engine>>& engines, bool engines_restored,
                           std::string& note);

}  // namespace flowlier::pipeline
