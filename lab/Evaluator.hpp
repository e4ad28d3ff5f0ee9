#pragma once
// Scores anomaly events (JSON Lines, flowlier.anomaly.v1) against simulator or real-capture
// labels: per-incident detection and time to detect, recall, false alert episodes and
// precision (all and paging only), a confusion table of event category against incident
// type, and what the false episodes fell on. The matching rules are documented in
// lab/README.md. Bad event lines are counted with their line number, never fatal.
#include <cstddef>
#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lab/Labels.hpp"
#include "lab/RealCaptureLabels.hpp"

namespace flowlier::lab {

struct EvalOptions {
  std::int64_t bucket_minutes = 10;  // alert episode = (entity id, bucket of this many minutes)
  std::int64_t grace_minutes = 10;   // events up to incident end + grace still match
  std::int64_t lead_minutes = 0;     // events from incident start - lead on match
  bool match_window = false;         // match on the event's window overlapping, not its time
  bool match_contributors = false;   // an incident entity among the contributors' values matches
  std::string paging_severity = "medium";  // episodes with an event at least this severe page
  LabelsFormat format = LabelsFormat::flowlier_v1;  // reported only
};

// The rules each labels format is scored by: the simulator's as documented in lab/README.md;
// the real captures' as their README says (window overlap with [start-2min, end+10min],
// entity or contributor).
EvalOptions options_for(LabelsFormat format);

struct IncidentResult {
  std::string id;
  std::string type;
  std::int64_t start = 0;
  std::int64_t end = 0;
  bool detected = false;
  std::int64_t time_to_detect = 0;  // seconds, first matching event time - start; 0 if not detected
  std::size_t matching_events = 0;
  bool paged = false;                // detected by an event at paging severity
  std::string first_category;        // category of the first matching event ("" if none)
};

// False episodes grouped by what they fell on and what fired.
struct FalseSource {
  std::string role;      // the host's role from the labels' estate, else "kind:<entity kind>"
  std::string detector;
  std::string feature;
  std::size_t episodes = 0;
  std::size_t paging = 0;
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

  // The same for paging episodes (an event at options.paging_severity or above).
  std::size_t paged = 0;                  // incidents detected by a paging event
  std::size_t paging_episodes = 0;
  std::size_t paging_matching_episodes = 0;
  std::size_t paging_false_episodes = 0;
  std::optional<double> paging_precision;
  double paging_false_episodes_per_day = 0;

  // Matching firing events per (incident type, event category; "-" when it has none).
  std::map<std::string, std::map<std::string, std::size_t>> confusion;
  std::vector<FalseSource> false_sources;              // most episodes first
  std::map<std::string, std::size_t> false_by_zoo;     // zoo member of the host -> false episodes
  std::map<std::string, std::size_t> paging_false_by_zoo;
  LabelsFormat labels_format = LabelsFormat::flowlier_v1;

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
