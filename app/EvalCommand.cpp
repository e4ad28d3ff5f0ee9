#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "app/Commands.hpp"
#include "lab/Evaluator.hpp"
#include "lab/Labels.hpp"
#include "lab/RealCaptureLabels.hpp"

namespace flowlier::app {

namespace {

struct EvalCliOptions {
  std::string labels;
  std::string events;
  bool json = false;
  int bucket_minutes = 10;
  int grace_minutes = -1;  // -1: the labels format's own
  std::string paging_severity = "medium";
};

void run_eval(const EvalCliOptions& o) {
  std::ifstream labels_file(o.labels, std::ios::binary);
  if (!labels_file) {
    std::cerr << "flowlier eval: cannot open labels file " << o.labels << "\n";
    throw CLI::RuntimeError(2);
  }
  std::stringstream text;
  text << labels_file.rdbuf();
  std::string error;
  const auto labels = lab::parse_any_labels(text.str(), error);
  if (!labels) {
    std::cerr << "flowlier eval: " << o.labels << ": " << error << "\n";
    throw CLI::RuntimeError(2);
  }
  std::ifstream events(o.events, std::ios::binary);
  if (!events) {
    std::cerr << "flowlier eval: cannot open events file " << o.events << "\n";
    throw CLI::RuntimeError(2);
  }
  lab::EvalOptions options = lab::options_for(labels->format);
  options.bucket_minutes = o.bucket_minutes;
  if (o.grace_minutes >= 0) options.grace_minutes = o.grace_minutes;
  options.paging_severity = o.paging_severity;
  const lab::EvalReport report = lab::evaluate(labels->labels, events, options);
  std::cout << (o.json ? lab::report_to_json(report) : lab::format_report(report));
  if (report.malformed_count > 0 && !o.json) {
    std::cerr << "flowlier eval: " << report.malformed_count << " malformed event lines (see above)\n";
  }
  if (report.firing_events + report.other_events == 0 && report.malformed_count > 0) {
    // Recall 0 from a file none of whose lines is an event says nothing about the
    // detector: it is the wrong file (normalize output, say), so it is an error.
    std::cerr << "flowlier eval: " << o.events << ": no anomaly events, " << report.malformed_count
              << " lines that are not events; expected `replay --out` output\n";
    throw CLI::RuntimeError(1);
  }
  if (report.lines == 0) {
    std::cerr << "flowlier eval: warning: " << o.events << " is empty (a detector that fired on nothing?)\n";
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto options = std::make_shared<EvalCliOptions>();
  auto* cmd = app.add_subcommand("eval", "Score anomaly events (JSON Lines) against simulator or real-capture labels");
  cmd->add_option("--labels", options->labels,
                  "labels.json written by flowlier sim, or a real capture's NAME.labels.json (detected)")
      ->required();
  cmd->add_option("--events", options->events, "Anomaly events, one JSON object per line")->required();
  cmd->add_flag("--json", options->json, "Print a machine-readable summary");
  cmd->add_option("--bucket-minutes", options->bucket_minutes, "Alert episode bucket (default 10)")
      ->check(CLI::Range(1, 1440));
  cmd->add_option("--grace-minutes", options->grace_minutes, "Matching grace after incident end (default 10)")
      ->check(CLI::Range(0, 1440));
  cmd->add_option("--paging-severity", options->paging_severity, "Lowest severity that pages (default medium)")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}));
  cmd->callback([options] { run_eval(*options); });
}

}  // namespace flowlier::app
