// Scoring against the real captures' label files (../shared/data/real/README.md): detected
// format, window overlap with [start - 2 min, end + 10 min], entity or contributor, the
// whole capture evaluated; plus the paging split, the confusion table and false sources.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "lab/Evaluator.hpp"
#include "lab/RealCaptureLabels.hpp"

using namespace flowlier::lab;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string data = FLOWLIER_TEST_DATA "/lab/";

LoadedLabels real_labels() {
  std::string error;
  const auto loaded = parse_any_labels(read_text(data + "real-capture-small.labels.json"), error);
  INFO(error);
  REQUIRE(loaded);
  return *loaded;
}

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("real-capture labels are detected and read: Unix seconds, plain entity strings", "[lab][eval][real]") {
  const LoadedLabels loaded = real_labels();
  CHECK(loaded.format == LabelsFormat::real_capture);
  const Labels& l = loaded.labels;
  CHECK(l.start == 1655157600);
  CHECK(l.end == 1655244000);
  CHECK(l.warmup_end == l.start);  // the whole capture is evaluated
  REQUIRE(l.incidents.size() == 3);
  CHECK(l.incidents[0].id == "inc-1");
  CHECK(l.incidents[1].type == "vscan(72 ports) 51.89.192.233");
  REQUIRE(l.incidents[1].entities.size() == 3);
  CHECK(l.incidents[1].entities[2].id == "51.89.192.233");

  std::string error;
  const auto sim = parse_any_labels(read_text(data + "labels-small.json"), error);
  REQUIRE(sim);
  CHECK(sim->format == LabelsFormat::flowlier_v1);

  CHECK_FALSE(parse_any_labels(R"({"records": 3})", error));
  CHECK(error.find("neither") != std::string::npos);
  CHECK_FALSE(parse_any_labels(R"({"t0": 10, "t_end": 5, "incidents": []})", error));
  CHECK(error == "t_end: before t0");
  CHECK_FALSE(parse_any_labels(R"({"t0": 1, "t_end": 5, "incidents": [{"id": 1, "type": "x", "start": 2, "end": 3,
                                   "entities": ["a", 7]}]})",
                               error));
  CHECK(error == "incidents[0].entities: not all non-empty strings");
  CHECK_FALSE(parse_any_labels(R"({"t0": 1, "t_end": 5, "incidents": [{"id": 1, "type": "x", "start": "2", "end": 3,
                                   "entities": []}]})",
                               error));
  CHECK(error.find("incidents[0].start") == 0);
}

TEST_CASE("real-capture scoring: window overlap with a 2-minute lead, contributors, paging split",
          "[lab][eval][real]") {
  const LoadedLabels loaded = real_labels();
  std::ifstream events(data + "real-capture-small.events.jsonl");
  REQUIRE(events);
  const EvalReport r = evaluate(loaded.labels, events, options_for(loaded.format));

  REQUIRE(r.incidents.size() == 3);
  CHECK(r.incidents[0].detected);  // window 09:58-09:59 overlaps [10:00 - 2 min, ...]
  CHECK(r.incidents[0].time_to_detect == -60);
  CHECK(r.incidents[0].paged);
  CHECK(r.incidents[0].first_category == "port-scan");
  CHECK(r.incidents[1].detected);     // via a contributor, window ends at 14:30 = end + 10 min
  CHECK_FALSE(r.incidents[1].paged);  // severity low
  CHECK(r.incidents[1].first_category == "-");
  CHECK_FALSE(r.incidents[2].detected);
  CHECK(r.detected == 2);
  CHECK(r.paged == 1);

  // Episodes: (eni, 09:50) matching, (10.9.9.9, 14:30) matching, (eni, 09:40) false critical,
  // (eni, 05:00) false medium+high, (147.32.83.234, 22:30 on day 0) false info.
  CHECK(r.alert_episodes == 5);
  CHECK(r.matching_episodes == 2);
  CHECK(r.false_episodes == 3);
  CHECK(r.evaluated_days == Approx(1.0));
  CHECK(r.false_episodes_per_day == Approx(3.0));
  CHECK(r.paging_episodes == 3);
  CHECK(r.paging_matching_episodes == 1);
  CHECK(r.paging_false_episodes == 2);
  CHECK(r.paging_false_episodes_per_day == Approx(2.0));
  REQUIRE(r.paging_precision);
  CHECK(*r.paging_precision == Approx(1.0 / 3.0));
  CHECK(r.warmup_episodes == 0);

  CHECK(r.confusion.at("dport 1337 x40 102.22.193.101").at("port-scan") == 1);
  CHECK(r.confusion.at("vscan(72 ports) 51.89.192.233").at("-") == 1);
  REQUIRE(r.false_sources.size() == 2);
  CHECK(r.false_sources[0].role == "kind:interface");
  CHECK(r.false_sources[0].feature == "bytes_out");
  CHECK(r.false_sources[0].episodes == 2);
  CHECK(r.false_sources[0].paging == 2);
  CHECK(r.false_sources[1].role == "kind:address");
  CHECK(r.false_sources[1].paging == 0);
}

TEST_CASE("the simulator's rule on the same events: entity only, event time inside the span", "[lab][eval][real]") {
  const LoadedLabels loaded = real_labels();
  std::ifstream events(data + "real-capture-small.events.jsonl");
  const EvalReport r = evaluate(loaded.labels, events, EvalOptions{});
  CHECK_FALSE(r.incidents[0].detected);  // 09:59 is before the start without the lead
  CHECK_FALSE(r.incidents[1].detected);  // named only as a contributor
  CHECK(r.detected == 0);
}

TEST_CASE("false episodes are traced to the estate's roles and zoo members", "[lab][eval]") {
  Labels labels;
  labels.start = 0;
  labels.end = 86400;
  labels.warmup_end = 0;
  labels.zoo = {"admin-ssh", "kubernetes"};
  labels.estate.push_back({"bastion", "eni-0aaaaaaaaaaaaaaaa", "10.0.5.10", {"admin-ssh"}, "", std::nullopt});
  labels.estate.push_back({"k8s", "eni-0bbbbbbbbbbbbbbbb", "10.0.8.10", {"kubernetes"}, "10.0.32.0/24", std::nullopt});
  std::istringstream events(
      R"({"status":"firing","time":"1970-01-01T01:00:00Z","entity":{"kind":"interface","id":"eni-0aaaaaaaaaaaaaaaa"},"episode":"a","detector":"ewma","feature":"bytes_out","severity":"critical"})"
      "\n"
      R"({"status":"firing","time":"1970-01-01T01:00:00Z","entity":{"kind":"address","id":"10.0.5.10"},"episode":"b","detector":"ewma","feature":"bytes_out","severity":"critical"})"
      "\n"
      R"({"status":"firing","time":"1970-01-01T02:00:00Z","entity":{"kind":"address","id":"10.0.32.77"},"episode":"c","detector":"count","feature":"new_peers","severity":"low"})"
      "\n"
      R"({"status":"firing","time":"1970-01-01T03:00:00Z","entity":{"kind":"dstaddr","id":"8.8.8.8"},"episode":"d","detector":"count","feature":"flows","severity":"medium"})"
      "\n");
  const EvalReport r = evaluate(labels, events, EvalOptions{});
  REQUIRE(r.false_sources.size() == 3);
  CHECK(r.false_sources[0].role == "bastion");
  CHECK(r.false_sources[0].episodes == 2);
  CHECK(r.false_sources[0].paging == 2);
  CHECK(r.false_sources[1].role == "kind:dstaddr");
  CHECK(r.false_sources[2].role == "k8s");  // a pod address on the node
  CHECK(r.false_by_zoo.at("admin-ssh") == 2);
  CHECK(r.paging_false_by_zoo.at("admin-ssh") == 2);
  CHECK(r.false_by_zoo.at("kubernetes") == 1);
  CHECK_FALSE(r.paging_false_by_zoo.contains("kubernetes"));
  const auto j = nlohmann::json::parse(report_to_json(r));
  CHECK(j["false_by_zoo"]["admin-ssh"]["paging"] == 2);
  CHECK(j["paging"]["false_episodes"] == 3);
}

TEST_CASE("flowlier eval detects a real capture's labels file", "[lab][eval][cli][real]") {
  const std::string bin = FLOWLIER_BINARY;
  const auto out = std::filesystem::temp_directory_path() / "flowlier-lab-eval-real.json";
  REQUIRE(run(bin + " eval --labels " + data + "real-capture-small.labels.json --events " + data +
              "real-capture-small.events.jsonl --json > " + out.string()) == 0);
  const auto j = nlohmann::json::parse(read_text(out.string()));
  std::filesystem::remove(out);
  CHECK(j["labels_format"] == "real-capture");
  CHECK(j["lead_minutes"] == 2);
  CHECK(j["detected"] == 2);
  CHECK(j["paging"]["false_episodes_per_day"].get<double>() == Approx(2.0));
  CHECK(j["confusion"]["dport 1337 x40 102.22.193.101"]["port-scan"] == 1);
  CHECK(run(bin + " eval --labels " + data + "real-capture-small.labels.json --events " + data +
            "real-capture-small.events.jsonl --paging-severity urgent 2>/dev/null") != 0);
}
