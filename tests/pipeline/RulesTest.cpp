#include <catch2/catch.hpp>

#include <thread>

#include "pipeline/Config.hpp"
#include "pipeline/RuleBook.hpp"
#include "pipeline/RuleMatch.hpp"
#include "pipeline/RuleReport.hpp"
#include "pipeline/Rules.hpp"
#include "pipeline/formats/Rfc3339.hpp"

using namespace flowlier::pipeline;

namespace {
// A port scan by one host, as the engine would hand it to the episode tracker.
AnomalyEvent scan_finding() {
  AnomalyEvent e;
  e.time = 1'700'000'000;
  e.window_start = e.time - 60;
  e.window_end = e.time;
  e.entity_kind = "interface";
  e.entity_id = "eni-0a1";
  e.related = {{"address", "10.0.1.12"}};
  e.detector = "count";
  e.feature = "distinct_ports";
  e.score = 70;
  e.severity = Severity::medium;
  e.category = "port-scan";
  e.contributors = {{"peer", "203.0.113.7", 0.5, "flows"}, {"port", "tcp/22", 0.4, "flows"}};
  return e;
}

std::vector<Rule> rules_of(const std::string& text) {
  auto result = parse_rules(text, "rules.toml");
  INFO(result.error);
  REQUIRE(result.error.empty());
  return result.rules;
}

Rule one_rule(const std::string& conditions) {
  auto rules = rules_of("[[rules]]\nname = \"r\"\nreason = \"why\"\naction = \"tag\"\n" + conditions);
  REQUIRE(rules.size() == 1);
  return rules[0];
}
}  // namespace

TEST_CASE("Rules: every condition narrows, a list holds when any item does") {
  const AnomalyEvent e = scan_finding();
  CHECK(rule_matches(one_rule(""), e));
  CHECK(rule_matches(one_rule("entity = \"eni-0a1\""), e));
  CHECK(rule_matches(one_rule("entity = \"10.0.1.0/24\""), e));  // the incident's address
  CHECK_FALSE(rule_matches(one_rule("entity = [\"10.0.2.0/24\", \"eni-other\"]"), e));
  CHECK(rule_matches(one_rule("entity_kind = \"interface\""), e));
  CHECK(rule_matches(one_rule("entity = \"10.0.1.12\"\nentity_kind = \"address\""), e));
  CHECK_FALSE(rule_matches(one_rule("entity = \"eni-0a1\"\nentity_kind = \"address\""), e));
  CHECK(rule_matches(one_rule("peer = \"203.0.113.0/24\""), e));
  CHECK(rule_matches(one_rule("peer = \"203.0.113.7\""), e));
  CHECK_FALSE(rule_matches(one_rule("peer = \"198.51.100.0/24\""), e));
  CHECK(rule_matches(one_rule("port = 22"), e));
  CHECK(rule_matches(one_rule("port = [\"tcp/22\", 443]"), e));
  CHECK_FALSE(rule_matches(one_rule("port = \"udp/22\""), e));
  CHECK(rule_matches(one_rule("protocol = \"tcp\""), e));
  CHECK_FALSE(rule_matches(one_rule("protocol = \"udp\""), e));
  CHECK(rule_matches(one_rule("category = [\"sweep\", \"port-scan\"]"), e));
  CHECK_FALSE(rule_matches(one_rule("category = \"ddos\""), e));
  CHECK(rule_matches(one_rule("detector = \"count\"\nfeature = \"distinct_ports\""), e));
  CHECK_FALSE(rule_matches(one_rule("detector = \"count\"\nfeature = \"bytes_out\""), e));
  CHECK(rule_matches(one_rule("min_severity = \"medium\""), e));
  CHECK_FALSE(rule_matches(one_rule("min_severity = \"high\""), e));
}

TEST_CASE("Rules: actions mark the finding; downgrade never raises; the first unexpired match acts") {
  auto rules = rules_of(R"(
[[rules]]
name = "old"
reason = "expired already"
action = "suppress"
expires = "2023-01-01T00:00:00Z"

[[rules]]
name = "minor"
reason = "known scanner"
action = "downgrade"
severity = "low"
category = "port-scan"

[[rules]]
name = "tag-all"
reason = "every finding"
action = "tag"
)");
  AnomalyEvent e = scan_finding();
  std::vector<std::size_t> expired;
  const Rule* rule = first_matching_rule(rules, e, &expired);
  REQUIRE(rule != nullptr);
  CHECK(rule->name == "minor");
  REQUIRE(expired == std::vector<std::size_t>{0});
  CHECK(apply_rule(*rule, e));
  CHECK(e.severity == Severity::low);
  REQUIRE(e.rule);
  CHECK(e.rule->name == "minor");
  CHECK(e.rule->action == "downgrade");
  CHECK(e.to_json().find(R"("rule":{"name":"minor","action":"downgrade","reason":"known scanner"})") !=
        std::string::npos);

  AnomalyEvent info = scan_finding();
  info.severity = Severity::info;
  apply_rule(*rule, info);
  CHECK(info.severity == Severity::info);

  // Before its expiry the first rule wins, and suppresses.
  AnomalyEvent early = scan_finding();
  early.time = *formats::parse_rfc3339("2022-06-01T00:00:00Z") / 1'000'000'000;
  const Rule* first = first_matching_rule(rules, early);
  REQUIRE(first != nullptr);
  CHECK(first->name == "old");
  CHECK_FALSE(apply_rule(*first, early));
}

TEST_CASE("Rules: bad rules are errors naming file and line") {
  const auto error = [](const std::string& text) { return parse_rules(text, "r.toml").error; };
  CHECK(error("[[rules]]\nname = \"a\"\naction = \"tag\"\n") == "r.toml:1: rule 'a' needs a 'reason'");
  CHECK(error("[[rules]]\nreason = \"x\"\naction = \"mute\"\n") ==
        "r.toml:3: rule 'rule-1': 'action' must be \"suppress\", \"downgrade\" or \"tag\"");
  CHECK(error("[[rules]]\nreason = \"x\"\naction = \"downgrade\"\n") ==
        "r.toml:1: rule 'rule-1': action = \"downgrade\" needs a 'severity'");
  CHECK(error("[[rules]]\nreason = \"x\"\naction = \"tag\"\n\nenitty = \"eni-1\"\n") ==
        "r.toml:5: unknown key 'rules.enitty' (did you mean 'entity'?)");
  CHECK(error("[[rules]]\nreason = \"x\"\naction = \"tag\"\npeer = \"10.0.0.0/33\"\n") ==
        "r.toml:4: 'peer' holds '10.0.0.0/33', which is not an address or CIDR");
  CHECK(error("[[rules]]\nreason = \"x\"\naction = \"tag\"\nexpires = \"next year\"\n") ==
        "r.toml:4: 'expires' must be an RFC 3339 time such as 2027-01-31T00:00:00Z");
  CHECK(error("[[rules]]\nreason = \"x\"\naction = \"tag\"\nport = 70000\n").starts_with("r.toml:4: 'port' must be"));
  CHECK(error("[[rules]]\nname = \"a\"\nreason = \"x\"\naction = \"tag\"\n[[rules]]\nname = \"a\"\nreason = "
              "\"y\"\naction = \"tag\"\n") == "r.toml:5: a second rule named 'a'");
  CHECK(error("[[rules]]\nname = \"a b\"\nreason = \"x\"\naction = \"tag\"\n").starts_with("r.toml:2: 'name' must"));
  // Through the config: the same message, other sections unaffected.
  const auto config = parse_config("[window]\nseconds = 60\n[[rules]]\nreason = \"x\"\naction = \"hide\"\n", "c.toml");
  CHECK(config.error == "c.toml:5: rule 'rule-1': 'action' must be \"suppress\", \"downgrade\" or \"tag\"");
  const auto good = parse_config("[[rules]]\nreason = \"x\"\naction = \"tag\"\nexpires = 2027-01-31T00:00:00Z\n", "c.toml");
  REQUIRE(good.error.empty());
  REQUIRE(good.config.rules.size() == 1);
  CHECK(good.config.rules[0].expires == *formats::parse_rfc3339("2027-01-31T00:00:00Z") / 1'000'000'000);
}

TEST_CASE("RuleBook: counts by name across reloads, reports an expired rule once") {
  std::vector<std::string> notices;
  RuleBook book(rules_of(R"(
[[rules]]
name = "gone"
reason = "temporary"
action = "suppress"
expires = "2020-01-01T00:00:00Z"

[[rules]]
name = "scan"
reason = "scanner"
action = "suppress"
category = "port-scan"
)"),
                [&](const std::string& n) { notices.push_back(n); });
  for (int i = 0; i < 3; ++i) {
    AnomalyEvent e = scan_finding();
    CHECK_FALSE(book.apply(e));
  }
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].find("rule 'gone' expired at 2020-01-01T00:00:00Z") != std::string::npos);
  auto counts = book.counts();
  REQUIRE(counts.size() == 2);
  CHECK(counts[0].name == "gone");
  CHECK(counts[0].expired);
  CHECK(counts[1].matches == 3);

  book.replace(rules_of("[[rules]]\nname = \"tagger\"\nreason = \"r\"\naction = \"tag\"\n"));
  AnomalyEvent e = scan_finding();
  CHECK(book.apply(e));
  CHECK(e.rule->name == "tagger");
  counts = book.counts();
  REQUIRE(counts.size() == 2);  // the rule in force, then the removed one that had counted
  CHECK(counts[0].name == "tagger");
  CHECK(counts[0].matches == 1);
  CHECK(counts[1].name == "scan");
  CHECK(counts[1].matches == 3);

  // Engines apply from their own threads while a reload replaces the rules.
  std::thread engine([&] {
    for (int i = 0; i < 2000; ++i) {
      AnomalyEvent f = scan_finding();
      book.apply(f);
    }
  });
  for (int i = 0; i < 50; ++i) book.replace(rules_of("[[rules]]\nname = \"tagger\"\nreason = \"r\"\naction = \"tag\"\n"));
  engine.join();
  CHECK(book.counts()[0].matches == 2001);
}

TEST_CASE("Rules: the commented example in the default config is a valid rule") {
  // Every key of the reference, uncommented, parses (so the reference stays true).
  const std::string defaults = default_config_text();
  const auto begin = defaults.find("# [[rules]]");
  REQUIRE(begin != std::string::npos);
  std::string example;
  for (std::size_t at = begin; at < defaults.size();) {
    const auto end = defaults.find('\n', at);
    example += defaults.substr(at + 2, end - at - 1);
    at = end + 1;
  }
  const auto result = parse_config(example, "example.toml");
  INFO(example);
  REQUIRE(result.error.empty());
  REQUIRE(result.config.rules.size() == 1);
  const Rule& r = result.config.rules[0];
  CHECK(r.action == RuleAction::downgrade);
  CHECK(r.entity_networks.size() == 1);
  CHECK(r.entity_ids.size() == 1);
  CHECK(r.ports.size() == 2);
  CHECK(r.expires.has_value());
  CHECK(r.min_severity == Severity::low);
}

TEST_CASE("RuleReport: episodes go to the first rule matching one of their firing events") {
  auto rules = rules_of(
      "[[rules]]\nname = \"hush\"\nreason = \"r\"\naction = \"suppress\"\ncategory = \"port-scan\"\n"
      "[[rules]]\nname = \"calm\"\nreason = \"r\"\naction = \"downgrade\"\nseverity = \"info\"\ncategory = \"ddos\"\n");
  auto event = [](std::string episode, std::string category, Severity s, std::int64_t end, EventStatus status) {
    AnomalyEvent e = scan_finding();
    e.episode = std::move(episode);
    e.category = std::move(category);
    e.severity = s;
    e.window_end = e.time = end;
    e.window_start = end - 60;
    e.status = status;
    return e;
  };
  const std::vector<AnomalyEvent> without = {
      event("a", "port-scan", Severity::low, 1'700'000'060, EventStatus::firing),
      event("b", "ddos", Severity::medium, 1'700'000'060, EventStatus::firing),
      event("b", "ddos", Severity::high, 1'700'000'120, EventStatus::firing),
      event("c", "exfiltration", Severity::high, 1'700'000'120, EventStatus::firing),
      event("a", "port-scan", Severity::low, 1'700'000'400, EventStatus::resolved),
  };
  const std::vector<AnomalyEvent> with = {
      event("b", "ddos", Severity::info, 1'700'000'060, EventStatus::firing),
      event("c", "exfiltration", Severity::high, 1'700'000'120, EventStatus::firing),
  };
  const auto episodes = summarize_episodes(without);
  REQUIRE(episodes.size() == 3);
  CHECK(episodes[0].id == "a");
  CHECK(episodes[0].start == 1'700'000'000);
  CHECK(episodes[0].end == 1'700'000'400);
  CHECK(episodes[0].resolved);
  CHECK(episodes[1].max_severity == Severity::high);
  const auto reports = rule_reports(rules, without, with);
  REQUIRE(reports.size() == 2);
  REQUIRE(reports[0].episodes.size() == 1);
  CHECK(reports[0].episodes[0].before.id == "a");
  CHECK_FALSE(reports[0].episodes[0].present_after);
  REQUIRE(reports[1].episodes.size() == 1);
  CHECK(reports[1].episodes[0].before.id == "b");
  CHECK(reports[1].episodes[0].present_after);
  CHECK(reports[1].episodes[0].severity_after == Severity::info);
}
