#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "lab/Evaluator.hpp"
#include "lab/Labels.hpp"
#include "lab/TimeText.hpp"

using namespace flowlier::lab;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Labels small_labels() {
  std::string error;
  const auto labels = parse_labels(read_text(FLOWLIER_TEST_DATA "/lab/labels-small.json"), error);
  REQUIRE(error.empty());
  REQUIRE(labels);
  return *labels;
}

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("eval fixture: recall, time to detect, false episodes and precision", "[lab][eval]") {
  const Labels labels = small_labels();
  std::ifstream events(FLOWLIER_TEST_DATA "/lab/events-small.jsonl");
  REQUIRE(events);
  const EvalReport r = evaluate(labels, events, EvalOptions{});

  REQUIRE(r.incidents.size() == 3);
  CHECK(r.incidents[0].id == "inc-01");
  CHECK(r.incidents[0].detected);
  CHECK(r.incidents[0].time_to_detect == 120);
  CHECK(r.incidents[0].matching_events == 2);  // one via the ENI, one via the actor address
  CHECK(r.incidents[1].detected);
  CHECK(r.incidents[1].time_to_detect == 29 * 60);  // inside the 10-minute grace
  CHECK(r.incidents[1].matching_events == 1);
  CHECK_FALSE(r.incidents[2].detected);
  CHECK(r.incidents[2].matching_events == 0);
  CHECK(r.detected == 2);
  CHECK(r.recall == Approx(2.0 / 3.0));
  REQUIRE(r.by_type.size() == 3);
  CHECK(r.by_type[0].type == "beacon");
  CHECK(r.by_type[0].detected == 0);
  CHECK(r.by_type[1].type == "exfiltration");
  CHECK(r.by_type[1].detected == 1);
  CHECK(r.by_type[2].type == "port-scan");

  CHECK(r.alert_episodes == 7);
  CHECK(r.matching_episodes == 3);
  CHECK(r.false_episodes == 4);
  REQUIRE(r.precision);
  CHECK(*r.precision == Approx(3.0 / 7.0));
  CHECK(r.evaluated_days == Approx(0.5));
  CHECK(r.false_episodes_per_day == Approx(8.0));
  CHECK(r.warmup_episodes == 1);

  CHECK(r.lines == 14);
  CHECK(r.blank_lines == 1);
  CHECK(r.firing_events == 9);
  CHECK(r.other_events == 1);
  CHECK(r.malformed_count == 3);
  REQUIRE(r.malformed.size() == 3);
  CHECK(r.malformed[0].line == 10);
  CHECK(r.malformed[0].reason.find("time") != std::string::npos);
  CHECK(r.malformed[1].line == 11);
  CHECK(r.malformed[1].reason == "not valid JSON");
  CHECK(r.malformed[2].line == 14);
  CHECK(r.malformed[2].reason.find("episode") != std::string::npos);
}

TEST_CASE("eval options change grace and bucket", "[lab][eval]") {
  const Labels labels = small_labels();
  std::ifstream events(FLOWLIER_TEST_DATA "/lab/events-small.jsonl");
  const EvalReport r = evaluate(labels, events, EvalOptions{60, 0});
  CHECK_FALSE(r.incidents[1].detected);  // 15:29 is after 15:20 with no grace
  CHECK(r.detected == 1);
  // 60-minute buckets: eni-zzz 14:00/14:05/14:12 collapse into one episode.
  // Episodes: (eni-aaa,13h) match, (actor,13h) match, (10.0.2.10,15h) false, (eni-zzz,14h) false,
  // (eni-aaa,12h) false.
  CHECK(r.alert_episodes == 5);
  CHECK(r.matching_episodes == 2);
}

TEST_CASE("eval survives garbage and empty input", "[lab][eval]") {
  const Labels labels = small_labels();
  std::istringstream garbage("\x01\x02\n{\"status\":\"firing\"}\n[1,2]\n{\"status\":\"maybe\"}\n\"str\"\n");
  const EvalReport r = evaluate(labels, garbage, EvalOptions{});
  CHECK(r.malformed_count == 5);
  CHECK(r.firing_events == 0);
  CHECK_FALSE(r.precision);
  CHECK(r.recall == 0);
  const std::string table = format_report(r);
  CHECK(table.find("malformed line 4: status") != std::string::npos);
  const auto j = nlohmann::json::parse(report_to_json(r));
  CHECK(j["events"]["malformed"] == 5);
  CHECK(j["precision"].is_null());

  std::istringstream empty;
  CHECK(evaluate(labels, empty, EvalOptions{}).lines == 0);
}

TEST_CASE("labels JSON round trips and bad labels are named", "[lab][labels]") {
  const Labels labels = small_labels();
  CHECK(labels.incidents.size() == 3);
  CHECK(labels.benign_changes.size() == 1);
  CHECK(labels.warmup_end == *parse_rfc3339("2026-03-02T12:00:00Z"));
  std::string error;
  const auto again = parse_labels(labels_to_json(labels), error);
  REQUIRE(again);
  CHECK(*again == labels);

  CHECK_FALSE(parse_labels("{", error));
  CHECK(error == "labels: not valid JSON");
  CHECK_FALSE(parse_labels(R"({"schema":"other"})", error));
  CHECK(error.find("schema") != std::string::npos);
  CHECK_FALSE(parse_labels(
      R"({"schema":"flowlier.labels.v1","start":"2026-03-02T00:00:00Z","end":"2026-03-03T00:00:00Z",
          "incidents":[{"id":"a","type":"sweep","start":"bad","end":"2026-03-02T00:00:00Z"}]})",
      error));
  CHECK(error == "incidents[0].start: not an RFC 3339 time: bad");
}

TEST_CASE("flowlier eval command: JSON summary and error exits", "[lab][eval][cli]") {
  const std::string bin = FLOWLIER_BINARY;
  const std::string data = FLOWLIER_TEST_DATA "/lab/";
  const auto out = std::filesystem::temp_directory_path() / "flowlier-lab-eval-cli.json";
  REQUIRE(run(bin + " eval --labels " + data + "labels-small.json --events " + data + "events-small.jsonl --json > " +
              out.string()) == 0);
  const auto j = nlohmann::json::parse(read_text(out.string()));
  CHECK(j["schema"] == "flowlier.eval.v1");
  CHECK(j["recall"].get<double>() == Approx(2.0 / 3.0));
  CHECK(j["recall_by_type"]["beacon"]["detected"] == 0);
  CHECK(j["incidents"][0]["time_to_detect_seconds"] == 120);
  CHECK(j["incidents"][2]["time_to_detect_seconds"].is_null());
  CHECK(j["false_episodes"] == 4);
  CHECK(j["false_episodes_per_day"].get<double>() == Approx(8.0));
  CHECK(j["events"]["malformed_lines"][1]["line"] == 11);
  std::filesystem::remove(out);

  CHECK(run(bin + " eval --labels /nonexistent/labels.json --events " + data + "events-small.jsonl 2>/dev/null") == 2);
  CHECK(run(bin + " eval --labels " + data + "events-small.jsonl --events " + data +
            "events-small.jsonl 2>/dev/null") == 2);
}
