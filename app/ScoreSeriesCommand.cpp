// `flowlier score-series FILE.csv`: NAB-style per-row anomaly scores of one univariate
// series (models/SeriesScorer.hpp). Input: a header line `timestamp,value` then rows
// like `2014-04-01 00:00:00,12.5` (UTC; RFC 3339 with a zone is accepted too). Output:
// `timestamp,value,anomaly_score`, one line per good input row, timestamp and value as
// read. Bad lines are skipped, counted and reported on stderr with their line numbers.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "app/Commands.hpp"
#include "lab/TimeText.hpp"
#include "models/SeriesScorer.hpp"

namespace flowlier::app {

namespace {

struct ScoreSeriesOptions {
  std::string file;
  std::string detector = "default";
  std::string out;
  std::string calibration;  // "" = the preset's
  int suppress_rows = -1;   // < 0 = the preset's
  double suppress_factor = -1.0;
  double surprise_scale = -1.0;
  double tail_share = -1.0;
  double half_life_scale = -1.0;
  std::string use;  // "" = the preset's detectors
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// NAB timestamps carry no zone: they are read as UTC.
std::optional<std::int64_t> parse_time(std::string_view text) {
  if (auto t = lab::parse_rfc3339(text)) return t;
  return lab::parse_rfc3339(std::string(text) + "Z");
}

std::optional<double> parse_value(std::string_view text) {
  double v = 0.0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

int run_score_series(const ScoreSeriesOptions& o) {
  auto config = models::SeriesScorer::preset(o.detector);
  if (!config) {
    std::string names;
    for (const auto& n : models::SeriesScorer::preset_names()) names += (names.empty() ? "" : ", ") + n;
    std::cerr << "flowlier score-series: unknown --detector " << o.detector << " (one of " << names << ")\n";
    return 2;
  }
  if (o.calibration == "fixed") config->calibration = models::Calibration::fixed;
  if (o.calibration == "rank") config->calibration = models::Calibration::rank;
  if (o.calibration == "blend") config->calibration = models::Calibration::blend;
  if (o.calibration == "rank_each") config->calibration = models::Calibration::rank_each;
  if (o.half_life_scale > 0.0) {
    // Longer memories for every detector (experiments on the corpus; see QUALITY.md).
    config->ewma.half_life *= o.half_life_scale;
    config->robust_z.window = static_cast<std::uint32_t>(config->robust_z.window * o.half_life_scale);
    config->rolling_z.window = static_cast<std::uint32_t>(config->rolling_z.window * o.half_life_scale);
    config->seasonal.bin_half_life *= o.half_life_scale;
    config->seasonal.global_half_life *= o.half_life_scale;
  }
  if (!o.use.empty()) {
    config->use_ewma = o.use.find("ewma") != std::string::npos;
    config->use_robust_z = o.use.find("robust_z") != std::string::npos;
    config->use_seasonal = o.use.find("seasonal") != std::string::npos;
    config->use_rolling_z = o.use.find("rolling_z") != std::string::npos;
    config->use_count = o.use.find("count") != std::string::npos;
  }
  if (o.suppress_rows >= 0) config->suppress_rows = static_cast<std::uint32_t>(o.suppress_rows);
  if (o.suppress_factor >= 0.0) config->suppress_factor = o.suppress_factor;
  if (o.surprise_scale > 0.0) config->surprise_scale = o.surprise_scale;
  if (o.tail_share >= 0.0) config->tail_share = o.tail_share;
  if (const auto error = config->validate(); !error.empty()) {
    std::cerr << "flowlier score-series: " << error << "\n";
    return 2;
  }

  std::ifstream in(o.file);
  if (!in) {
    std::cerr << "flowlier score-series: cannot open " << o.file << "\n";
    return 1;
  }
  std::ofstream file_out;
  if (!o.out.empty()) {
    file_out.open(o.out);
    if (!file_out) {
      std::cerr << "flowlier score-series: cannot write " << o.out << "\n";
      return 1;
    }
  }
  std::ostream& out = o.out.empty() ? std::cout : file_out;

  models::SeriesScorer scorer(*config);
  std::string line;
  std::uint64_t line_no = 0;
  std::uint64_t good = 0;
  std::vector<std::string> problems;  // the first few, with line numbers
  std::uint64_t bad = 0;
  auto reject = [&](const std::string& why) {
    ++bad;
    if (problems.size() < 20) problems.push_back(fmt::format("{}:{}: {}", o.file, line_no, why));
  };
  std::int64_t last_time = std::numeric_limits<std::int64_t>::min();
  std::uint64_t out_of_order = 0;
  out << "timestamp,value,anomaly_score\n";
  while (std::getline(in, line)) {
    ++line_no;
    const std::string_view text = trim(line);
    if (line_no == 1) {
      if (text.substr(0, 9) == "timestamp") continue;  // the header
      reject("no `timestamp,value` header; line read as data");
    }
    if (text.empty()) continue;
    const auto comma = text.find(',');
    if (comma == std::string_view::npos || text.find(',', comma + 1) != std::string_view::npos) {
      reject("expected 2 fields");
      continue;
    }
    const auto time_text = trim(text.substr(0, comma));
    const auto value_text = trim(text.substr(comma + 1));
    const auto time_s = parse_time(time_text);
    if (!time_s) {
      reject(fmt::format("bad timestamp '{}'", time_text));
      continue;
    }
    const auto value = parse_value(value_text);
    if (!value) {
      reject(fmt::format("bad value '{}'", value_text));
      continue;
    }
    if (*time_s < last_time) ++out_of_order;  // real NAB files have a few (clock changes)
    last_time = std::max(last_time, *time_s);
    const auto result = scorer.observe(*value, *time_s);
    out << time_text << ',' << value_text << ',' << fmt::format("{:.12f}", result.score) << '\n';
    ++good;
  }
  out.flush();
  for (const auto& p : problems) std::cerr << "flowlier score-series: " << p << "\n";
  if (out_of_order > 0)
    std::cerr << fmt::format("flowlier score-series: {}: {} rows earlier than a previous row (scored in file order)\n",
                             o.file, out_of_order);
  if (bad > 0) std::cerr << fmt::format("flowlier score-series: {} rows scored, {} bad lines\n", good, bad);
  if (!out) {
    std::cerr << "flowlier score-series: write failed\n";
    return 1;
  }
  if (good == 0) {
    // Nothing scored is a failure, not an empty result: an unreadable or empty CSV.
    std::cerr << fmt::format("flowlier score-series: {}: no rows scored ({}); expected a `timestamp,value` CSV\n",
                             o.file, bad > 0 ? fmt::format("{} bad lines", bad) : std::string("no data rows"));
    return 1;
  }
  return 0;
}

}  // namespace

void add_score_series_command(CLI::App& app) {
  auto options = std::make_shared<ScoreSeriesOptions>();
  auto* cmd = app.add_subcommand("score-series",
                                 "Per-row anomaly scores of a timestamp,value CSV (NAB format) on stdout or --out");
  cmd->add_option("file", options->file, "timestamp,value CSV")->required();
  cmd->add_option("--detector", options->detector,
                  "default | ewma | robust_z | seasonal | rolling_z | count")->capture_default_str();
  cmd->add_option("--out", options->out, "write timestamp,value,anomaly_score here instead of stdout");
  cmd->add_option("--calibration", options->calibration, "override: fixed | rank | blend | rank_each")
      ->check(CLI::IsMember({"fixed", "rank", "blend", "rank_each"}));
  cmd->add_option("--memory-scale", options->half_life_scale, "override: multiply every detector's half-life/window");
  cmd->add_option("--use", options->use, "override: detectors, e.g. ewma,seasonal");
  cmd->add_option("--suppress-rows", options->suppress_rows, "override: rows of alarm suppression (0 = none)");
  cmd->add_option("--suppress-factor", options->suppress_factor, "override: factor on suppressed scores, [0, 1]");
  cmd->add_option("--tail-share", options->tail_share,
                  "override: top share of each rank history refined by a fitted tail (0 = plain rank)");
  cmd->add_option("--surprise-scale", options->surprise_scale, "override: -log10(p) scoring 0.5 (fixed calibration)");
  cmd->callback([options] {
    const int rc = run_score_series(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace flowlier::app
