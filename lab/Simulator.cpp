// The simulator's driver: plans the run (lab/Planner.cpp), then produces one minute
// window at a time from the core estate (lab/BenignTraffic.cpp), the benign zoo
// (lab/ZooTraffic.cpp) and the incidents (lab/IncidentTraffic.cpp), and writes each hour.
#include "lab/Simulator.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <system_error>
#include <vector>

#include "lab/BenignTraffic.hpp"
#include "lab/FlowEmitter.hpp"
#include "lab/Incidents.hpp"
#include "lab/Planner.hpp"
#include "lab/Zoo.hpp"
#include "lab/ZooTraffic.hpp"

namespace flowlier::lab {

using sim::day;
using sim::hour;
using sim::minute;

std::string validate(const SimConfig& config) {
  if (!(config.scale > 0 && config.scale <= 100)) return fmt::format("scale must be in (0, 100], got {}", config.scale);
  if (config.duration_seconds < hour || config.duration_seconds % hour != 0) {
    return "duration must be a whole number of hours, at least one";
  }
  if (config.duration_seconds > 366 * day) return "duration must be at most 366 days";
  if (config.start % hour != 0) return "start must be on a whole hour (e.g. 2026-03-02T00:00:00Z)";
  if (config.start < 0) return "start must not be before 1970";
  for (const auto& name : config.zoo_exclude) {
    if (std::find(sim::zoo_member_names.begin(), sim::zoo_member_names.end(), name) == sim::zoo_member_names.end()) {
      return fmt::format("unknown benign zoo member '{}' (one of {})", name, fmt::join(sim::zoo_member_names, ", "));
    }
  }
  return {};
}

std::int64_t warmup_end_for(std::int64_t start, std::int64_t duration_seconds) {
  if (duration_seconds >= 2 * day) return start + day;
  const std::int64_t w = duration_seconds * 2 / 3;
  return start + w - w % minute;
}

std::optional<Labels> plan_labels(const SimConfig& config, std::string& error) {
  auto p = sim::prepare(config, error);
  if (!p) return std::nullopt;
  return p->plan.labels;
}

std::optional<SimSummary> simulate(const SimConfig& config, std::string& error) {
  auto prepared = sim::prepare(config, error);
  if (!prepared) return std::nullopt;
  const Environment& env = prepared->env;
  sim::Plan& plan = prepared->plan;

  std::error_code ec;
  std::filesystem::create_directories(config.out_dir, ec);
  if (ec) {
    error = fmt::format("cannot create {}: {}", config.out_dir.string(), ec.message());
    return std::nullopt;
  }
  FlowLogWriter writer(env, config.format, config.out_dir, config.seed);
  sim::FlowEmitter emit(env);
  sim::BenignTraffic benign(config, plan, emit);
  sim::ZooTraffic zoo(plan, emit, config.seed);
  std::vector<FlowLine> lines;
  const std::int64_t finish = config.start + config.duration_seconds;
  for (std::int64_t h = config.start; h < finish; h += hour) {
    lines.clear();
    for (std::int64_t w = h; w < h + hour; w += minute) {
      emit.begin_window(w, lines);
      const double activity = benign.activity(w);
      benign.window(activity);
      zoo.window(activity);
      for (auto& inj : plan.injections) {
        if (inj.start < w + minute && inj.end > w) sim::emit_incident(inj, emit);
      }
      emit.tick_sessions();
    }
    error = writer.write_hour(h, lines);
    if (!error.empty()) return std::nullopt;
  }

  writer.relabel(plan.labels);
  const std::filesystem::path labels_path = config.out_dir / "labels.json";
  std::ofstream labels_file(labels_path, std::ios::binary | std::ios::trunc);
  labels_file << labels_to_json(plan.labels);
  labels_file.close();
  if (!labels_file) {
    error = fmt::format("cannot write {}", labels_path.string());
    return std::nullopt;
  }
  SimSummary summary;
  summary.labels = plan.labels;
  summary.hosts = env.hosts().size();
  summary.files = writer.files();
  summary.records = writer.records();
  summary.uncompressed_bytes = writer.uncompressed_bytes();
  summary.compressed_bytes = writer.compressed_bytes();
  return summary;
}

}  // namespace flowlier::lab
