#pragma once
// Labelled AWS VPC flow log simulator: one VPC of web/app/db/batch/bastion/dns hosts with
// diurnal traffic, benign changes and injected incidents, written as S3-style hourly gzip
// files plus labels.json (see lab/README.md). Deterministic per seed: no clock, no
// unordered containers, every random draw from std::mt19937_64 streams derived from seed.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lab/FlowLogWriter.hpp"
#include "lab/Labels.hpp"

namespace flowlier::lab {

inline constexpr std::int64_t default_sim_start = 1772409600;  // 2026-03-02T00:00:00Z, a Monday

struct SimConfig {
  std::filesystem::path out_dir;
  std::uint64_t seed = 1;
  std::int64_t start = default_sim_start;     // Unix seconds, whole hour
  std::int64_t duration_seconds = 2 * 86400;  // whole hours, at least one
  double scale = 1.0;                         // hosts and volumes; (0, 100]
  LogFormat format = LogFormat::v2;
  bool incidents = true;                      // false: benign traffic and changes only
  // Benign zoo members left out although the seed draws them (to measure what each costs);
  // the estate and every other draw stay the same.
  std::vector<std::string> zoo_exclude;
};

struct SimSummary {
  Labels labels;
  std::uint64_t hosts = 0;
  std::uint64_t files = 0;
  std::uint64_t records = 0;
  std::uint64_t uncompressed_bytes = 0;
  std::uint64_t compressed_bytes = 0;
};

// Empty when the config is usable, else a message naming the bad setting.
std::string validate(const SimConfig& config);

// Warm-up rule: spans of two days or more warm up for the first day and get incidents from
// day 2 on; shorter spans warm up for the first 2/3 (rounded down to the minute).
std::int64_t warmup_end_for(std::int64_t start, std::int64_t duration_seconds);

// Generates everything into config.out_dir (created if needed). On failure (bad config,
// I/O error) returns nullopt with `error` set; files already written stay.
std::optional<SimSummary> simulate(const SimConfig& config, std::string& error);

// Labels only (the same as simulate() would write), without generating traffic.
std::optional<Labels> plan_labels(const SimConfig& config, std::string& error);

}  // namespace flowlier::lab
