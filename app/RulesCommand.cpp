// `flowlier rules test --config C PATH...`: what the config's [[rules]] would have done
// to the episodes of past input, before they are trusted in `run`.
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/Commands.hpp"
#include "service/RuleService.hpp"
#include "pipeline/Config.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/FileIngest.hpp"
#include "pipeline/MemoryLimit.hpp"
#include "pipeline/RuleReport.hpp"
#include "pipeline/formats/Rfc3339.hpp"

namespace flowlier::app {
namespace {
using namespace flowlier::pipeline;
using service::make_rule_book;

struct RulesTestOptions {
  std::string config;
  std::vector<std::string> paths;
  bool json = false;
};

// The same records to two engines: one without rules, one with them.
class TwinSink final : public DecodeSink {
 public:
  TwinSink(Engine& without, Engine& with) : without_(without), with_(with) {}
  void on_record(const FlowRecord& record) override {
    without_.process(record);
    with_.process(record);
  }
  void on_reject(const Reject&) override {}

 private:
  Engine& without_;
  Engine& with_;
};

std::string time_text(std::int64_t seconds) { return formats::format_rfc3339(seconds * 1'000'000'000); }

std::string effect_text(const Rule& rule, const RuleEffect& e) {
  if (!e.present_after) return rule.action == RuleAction::suppress ? "suppressed" : "gone";
  if (e.severity_after < e.before.max_severity) return fmt::format("downgraded to {}", to_string(e.severity_after));
  if (rule.action == RuleAction::suppress) return "shortened";  // suppressed only after it opened
  return rule.action == RuleAction::tag ? "tagged" : "kept";
}

int run_rules_test(const RulesTestOptions& o) {
  auto loaded = load_config_file(o.config);
  if (!loaded.error.empty()) {
    fmt::print(stderr, "rules test: config error: {}\n", loaded.error);
    return 2;
  }
  Config& config = loaded.config;
  if (config.rules.empty()) {
    fmt::print(stderr, "rules test: {} has no [[rules]]\n", o.config);
    return 2;
  }
  const auto cap = entity_cap(config.engine.windows.max_entities, config.limits.max_memory, 2);
  config.engine.windows.max_entities = cap.max_entities;
  Engine without(config.engine);
  Engine with(config.engine);
  with.set_rules(make_rule_book(config.rules, "rules test"));

  IngestOptions ingest_options;
  if (config.input_format != "auto") ingest_options.format = parse_input_format(config.input_format);
  ingest_options.decoder = config.decoder;
  ingest_options.time_order = true;
  IngestStats stats;
  RejectLog rejects(stderr, 0);
  FileIngest ingest(ingest_options, rejects, stats);
  TwinSink sink(without, with);
  ingest.read(o.paths, sink, [](const std::string& message) { fmt::print(stderr, "rules test: error: {}\n", message); });
  without.flush();
  with.flush();
  const auto before = without.take_events();
  const auto after = with.take_events();

  const auto reports = rule_reports(config.rules, before, after);
  const std::size_t episodes_before = summarize_episodes(before).size();
  const std::size_t episodes_after = summarize_episodes(after).size();
  if (o.json) {
    for (const auto& report : reports) {
      for (const auto& e : report.episodes) {
        nlohmann::ordered_json j = {{"rule", report.rule->name},
                                    {"action", to_string(report.rule->action)},
                                    {"effect", effect_text(*report.rule, e)},
                                    {"episode", e.before.id},
                                    {"entity", {{"kind", e.before.entity_kind}, {"id", e.before.entity_id}}},
                                    {"start", time_text(e.before.start)},
                                    {"end", time_text(e.before.end)},
                                    {"severity", to_string(e.before.max_severity)},
                                    {"category", e.before.category},
                                    {"detector", e.before.detector},
                                    {"feature", e.before.feature}};
        if (e.present_after) j["severity_after"] = to_string(e.severity_after);
        fmt::print("{}\n", j.dump());
      }
    }
  } else {
    fmt::print("{} records; {} episodes without the rules, {} with them\n", stats.records, episodes_before,
               episodes_after);
    for (const auto& report : reports) {
      const Rule& r = *report.rule;
      fmt::print("\nrule {} ({}{}{}): {} episode{}\n  reason: {}\n", r.name, to_string(r.action),
                 r.action == RuleAction::downgrade ? fmt::format(" to {}", to_string(r.severity)) : "",
                 r.expires ? fmt::format(", expires {}", time_text(*r.expires)) : "", report.episodes.size(),
                 report.episodes.size() == 1 ? "" : "s", r.reason);
      for (const auto& e : report.episodes) {
        std::string related;
        for (const auto& x : e.before.related) related += fmt::format(" {} {}", x.kind, x.id);
        fmt::print("  {:<16} {} {} -> {} {} {}{} {} {} {}/{}\n", effect_text(r, e), e.before.id,
                   time_text(e.before.start), time_text(e.before.end), e.before.entity_kind, e.before.entity_id,
                   related.empty() ? "" : " (" + related.substr(1) + ")", to_string(e.before.max_severity),
                   e.before.category.empty() ? "-" : e.before.category, e.before.detector, e.before.feature);
      }
    }
  }
  return stats.input_errors > 0 ? 1 : 0;
}
}  // namespace

void add_rules_command(CLI::App& app) {
  auto* rules = app.add_subcommand("rules", "Operator rules ([[rules]] in the config)");
  rules->require_subcommand(1);
  auto options = std::make_shared<RulesTestOptions>();
  auto* test = rules->add_subcommand(
      "test", "Replay input with and without the config's rules and print, per rule, the episodes it would have "
              "suppressed, downgraded or tagged");
  test->add_option("-c,--config", options->config, "TOML config holding the [[rules]]")->required();
  test->add_option("paths", options->paths, "Files, .gz files, directories or - for stdin")->required();
  test->add_flag("--json", options->json, "One JSON line per (rule, episode) instead of the text report");
  test->callback([options] {
    const int rc = run_rules_test(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace flowlier::app
