#pragma once
// Scores anomaly events (JSON Lines, flowlier.anomaly.v1) against simulator labels:
// per-incident detection and time to detect, recall, false alert episodes and precision.
// The matching rule is documented in lab/README.md. Bad event lines are counted with their
// line number, never fatal.
#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "lab/Labels.hpp"

namespace flowlier::lab {

struct EvalOptions {
  std::int64_t bucket_minutes = 10;  // alert episode = (entity id, bucket of this many minutes)
  std::int64_t grace_minutes = 10;   // events up to incident end + grace still match
};

struct IncidentResult {
  std::string id;
  std::string type;
  std::int64_t start = 0;
  std::int64_t end = 0;
  bool detected = false;
  std::int64_t time_to_detect = 0;  // seconds, first matching event time - start; 0 if not detected
  std::size_t matching_events = 0;
};

struct TypeRecall {
  std::string type;
  std::size_t incidents = 0;
  std::size_t detected = 0;
};

struct MalformedLine {
  std::size_t line = 0;  // 1-based
  std::string reason;
};

struct EvalReport {
  EvalOptions options;
  std::vector<IncidentResult> incidents;  // in labels order
  std::vector<TypeRecall> by_type;        // sorted by type name
  std::size_t detected = 0;
  double recall = 0;                      // detected / incidents; 0 when there are none

  // Alert episodes with event time in [warmup_end, end + grace].
  std::size_t alert_episodes = 0;
  std::size_t matching_episodes = 0;
  std::size_t false_episodes = 0;
  std::optional<double> precision;        // matching / all; none when there are no episodes
  double evaluated_days = 0;              // (end - warmup_end) in days
  double false_episodes_per_day = 0;
  std::size_t warmup_episodes = 0;        // firing before warmup_end: excluded
  std::size_t outside_episodes = 0;       // firing after end + grace: excluded

  std::size_t lines = 0;
  std::size_t blank_lines = 0;
  std::size_t firing_events = 0;
  std::size_t other_events = 0;           // well-formed but not "firing"
  std::size_t malformed_count = 0;
  std::vector<MalformedLine> malformed;   // the first 100, with reasons
};

EvalReport evaluate(const Labels& labels, std::istream& events, const EvalOptions& options);

// Human-readable table and summary.
std::string format_report(const EvalReport& report);
// Machine-readable summary (schema "flowlier.eval.v1"), pretty JSON with a trailing newline.
std::string report_to_json(const EvalReport& report);

}  // namespace flowlier::lab
