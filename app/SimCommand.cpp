#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/Commands.hpp"
#include "lab/Simulator.hpp"
#include "lab/TimeText.hpp"

namespace flowlier::app {

namespace {

struct SimOptions {
  std::string out;
  std::uint64_t seed = 1;
  int days = 2;
  int hours = 0;
  double scale = 1.0;
  std::string format = "v2";
  std::string start = "2026-03-02T00:00:00Z";
  bool no_incidents = false;
  std::vector<std::string> zoo_exclude;
};

void run_sim(const SimOptions& o) {
  lab::SimConfig config;
  config.out_dir = o.out;
  config.seed = o.seed;
  config.scale = o.scale;
  config.incidents = !o.no_incidents;
  config.zoo_exclude = o.zoo_exclude;
  config.format = o.format == "v5-custom"   ? lab::LogFormat::v5_custom
                  : o.format == "gcp"       ? lab::LogFormat::gcp
                  : o.format == "azure-nsg"  ? lab::LogFormat::azure_nsg
                  : o.format == "azure-vnet" ? lab::LogFormat::azure_vnet
                                             : lab::LogFormat::v2;
  const auto start = lab::parse_rfc3339(o.start);
  if (!start) {
    std::cerr << "flowlier sim: --start is not an RFC 3339 time: " << o.start << "\n";
    throw CLI::RuntimeError(2);
  }
  config.start = *start;
  config.duration_seconds = o.hours > 0 ? std::int64_t{o.hours} * 3600 : std::int64_t{o.days} * 86400;

  // The clock is read here only, to report speed; the simulation itself never reads it.
  const auto began = std::chrono::steady_clock::now();
  std::string error;
  const auto summary = lab::simulate(config, error);
  if (!summary) {
    std::cerr << "flowlier sim: " << error << "\n";
    throw CLI::RuntimeError(1);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::cout << fmt::format(
      "wrote {} records in {} files ({:.1f} MB uncompressed, {:.1f} MB gzip) for {} hosts in {:.2f} s "
      "({:.0f} records/s)\n",
      summary->records, summary->files, static_cast<double>(summary->uncompressed_bytes) / 1e6,
      static_cast<double>(summary->compressed_bytes) / 1e6, summary->hosts, seconds,
      static_cast<double>(summary->records) / std::max(seconds, 1e-9));
  std::cout << fmt::format("logs: {}/{} (replay that directory)\n", o.out, lab::log_root(config.format));
  std::cout << fmt::format("labels: {}/labels.json ({} incidents, {} benign changes, warm-up until {})\n", o.out,
                           summary->labels.incidents.size(), summary->labels.benign_changes.size(),
                           lab::format_rfc3339(summary->labels.warmup_end));
  std::string zoo;
  for (const auto& m : summary->labels.zoo) zoo += (zoo.empty() ? "" : ", ") + m;
  std::cout << "benign zoo: " << (zoo.empty() ? "none" : zoo) << "\n";
}

}  // namespace

void add_sim_command(CLI::App& app) {
  auto options = std::make_shared<SimOptions>();
  auto* cmd = app.add_subcommand("sim", "Write labelled, simulated flow logs (AWS, GCP or Azure) and labels.json");
  cmd->add_option("--out", options->out, "Output directory")->required();
  cmd->add_option("--seed", options->seed, "Random seed (same seed, same output)");
  auto* days = cmd->add_option("--days", options->days, "Days to simulate (default 2)")->check(CLI::Range(1, 366));
  auto* hours = cmd->add_option("--hours", options->hours, "Hours to simulate instead of days")->check(CLI::Range(1, 8784));
  days->excludes(hours);
  cmd->add_option("--scale", options->scale, "Hosts and volumes multiplier (default 1)")->check(CLI::Range(0.01, 100.0));
  cmd->add_option("--format", options->format, "v2 (default; also: aws), v5-custom (AWS), gcp, azure-nsg or azure-vnet, each in its cloud's file layout")
      ->check(CLI::IsMember({"v2", "aws", "v5-custom", "gcp", "azure-nsg", "azure-vnet"}));
  cmd->add_option("--start", options->start, "Start time, a whole hour in RFC 3339 UTC (default 2026-03-02T00:00:00Z)");
  cmd->add_flag("--no-incidents", options->no_incidents, "Benign traffic and benign changes only");
  cmd->add_option("--zoo-exclude", options->zoo_exclude,
                  "Leave out these benign zoo members (comma-separated), e.g. nat-gateway,patch-day")
      ->delimiter(',');
  cmd->callback([options] { run_sim(*options); });
}

}  // namespace flowlier::app
