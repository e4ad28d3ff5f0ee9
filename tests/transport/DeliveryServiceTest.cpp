// The HTTP sinks against tests/transport/receiver.py, a real server process on 127.0.0.1.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/SharedData.hpp"
#include "tests/transport/TestEvents.hpp"
#include "transport/DeliveryService.hpp"
#include "transport/FileSink.hpp"

using namespace flowlier::transport;
using flowlier::transport::test::make_event;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The receiver as a child process; killed (SIGTERM) on destruction.
class Receiver {
 public:
  Receiver(const std::string& record, int port = 0, const std::string& token = "good-token", bool ack = false) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      const auto port_text = std::to_string(port);
      ::execl("/usr/bin/python3", "python3", FLOWLIER_RECEIVER, "--record", record.c_str(), "--port",
              port_text.c_str(), "--token", token.c_str(), ack ? "--ack" : nullptr, nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    char line[64] = {};
    std::size_t n = 0;
    while (n < sizeof line - 1 && ::read(fds[0], line + n, 1) == 1 && line[n] != '\n') ++n;
    ::close(fds[0]);
    REQUIRE(std::sscanf(line, "PORT %d", &port_) == 1);
  }
  ~Receiver() { stop(); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "") const { return fmt::format("http://127.0.0.1:{}{}", port_, path); }
  // Queues forced answers for the next requests.
  void control(const json& c) const {
    HttpClient client;
    HttpRequest r{url("/control"), {"Content-Type: application/json"}, c.dump()};
    REQUIRE(client.post(r, 5000).status == 200);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

struct Fixture {
  std::string dir;
  std::string record;
  std::vector<std::string> logs;
  std::mutex logs_mutex;
  explicit Fixture(const char* name) {
    dir = (fs::temp_directory_path() / fmt::format("flowlier-{}-{}", name, ::getpid())).string();
    fs::remove_all(dir);
    fs::create_directories(dir);
    record = dir + "/received.jsonl";
  }
  ~Fixture() { fs::remove_all(dir); }
  SinkLog log() {
    return [this](const std::string& line) {
      std::lock_guard lock(logs_mutex);
      logs.push_back(line);
    };
  }
  std::vector<json> received() const {
    std::vector<json> out;
    std::ifstream in(record);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }
  std::vector<std::string> received_ids() const {
    std::vector<std::string> ids;
    for (const auto& r : received()) ids.push_back(r["id"].get<std::string>());
    return ids;
  }
  SinkConfig hec(const std::string& url, const std::string& token = "good-token") const {
    SinkConfig c;
    c.type = SinkType::splunk_hec;
    c.id = "hec";
    c.url = url;
    c.token = token;
    c.spool_dir = dir + "/spool";
    c.batch_max_events = 10;
    c.batch_timeout_ms = 50;
    c.backoff_initial_ms = 20;
    c.backoff_max_ms = 200;
    c.auth_retry_ms = 300;
    c.timeout_ms = 2000;
    return c;
  }
};

std::vector<std::string> expected_ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(make_event(i).meta.id);
  return ids;
}

}  // namespace

TEST_CASE("HEC: every event arrives, in order, through a 503 storm", "[integration]") {
  Fixture f("hec-503");
  Receiver receiver(f.record);
  receiver.control({{"status", std::vector<int>(8, 503)}});
  std::string error;
  auto sink = DeliveryService::start(f.hec(receiver.url()), f.log(), error);
  REQUIRE(sink);
  for (int i = 0; i < 50; ++i) sink->push(make_event(i));
  REQUIRE(sink->flush(15s));
  CHECK(f.received_ids() == expected_ids(50));
  const auto c = sink->counters();
  CHECK(c.delivered == 50);
  CHECK(c.retried == 8);
  CHECK(c.spool_events == 0);
  CHECK(c.dead_lettered == 0);
  const auto first = f.received().front();
  CHECK(first["sourcetype"] == "flowlier:anomaly");
  CHECK(first["fields"]["entity"] == "eni-0abc");
}

TEST_CASE("HEC with indexer acknowledgement: one channel, batches committed once acknowledged", "[integration]") {
  Fixture f("hec-ack");
  Receiver receiver(f.record, 0, "good-token", true);
  auto config = f.hec(receiver.url());
  config.ack = true;
  config.gzip = true;
  std::string error;
  auto sink = DeliveryService::start(config, f.log(), error);
  REQUIRE(sink);
  for (int i = 0; i < 25; ++i) sink->push(make_event(i));
  REQUIRE(sink->flush(10s));
  CHECK(f.received_ids() == expected_ids(25));
  std::set<std::string> channels;
  for (const auto& row : f.received()) channels.insert(row["channel"].get<std::string>());
  CHECK(channels.size() == 1);
  CHECK(channels.begin()->size() == 36);
  CHECK(sink->counters().delivered == 25);
}

TEST_CASE("Sumo: gzip bodies, 429 with Retry-After is honoured", "[integration]") {
  Fixture f("sumo-429");
  Receiver receiver(f.record);
  receiver.control({{"status", {429}}, {"retry_after", 1}});
  SinkConfig c = f.hec(receiver.url("/receiver/v1/http/SECRET"));
  c.type = SinkType::sumo_logic;
  c.id = "sumo";
  c.gzip = true;
  c.category = "net/flowlier";
  c.fields = {{"env", "test"}};
  std::string error;
  auto sink = DeliveryService::start(c, f.log(), error);
  REQUIRE(sink);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) sink->push(make_event(i));
  REQUIRE(sink->flush(10s));
  CHECK(std::chrono::steady_clock::now() - started >= 1s);  // waited Retry-After, not the 20 ms backoff
  CHECK(f.received_ids() == expected_ids(5));
  const auto rows = f.received();
  CHECK(rows[0]["gzip"] == true);
  CHECK(rows[0]["category"] == "net/flowlier");
  CHECK(rows[0]["fields"] == "env=test");
  CHECK(sink->counters().retried == 1);
  for (const auto& line : f.logs) CHECK(line.find("SECRET") == std::string::npos);
}

TEST_CASE("HEC: one bad event in a batch -> 400, the rest delivered, the bad one dead-lettered", "[integration]") {
  Fixture f("hec-400");
  Receiver receiver(f.record);
  auto config = f.hec(receiver.url());
  config.batch_timeout_ms = 2000;  // all 10 go in one batch
  std::string error;
  auto sink = DeliveryService::start(config, f.log(), error);
  REQUIRE(sink);
  std::vector<std::string> good;
  for (int i = 0; i < 10; ++i) {
    auto e = i == 6 ? make_event(i, false, SinkSeverity::high, "BAD") : make_event(i);
    if (i != 6) good.push_back(e.meta.id);
    sink->push(e);
  }
  REQUIRE(sink->flush(10s));
  CHECK(f.received_ids() == good);
  const auto c = sink->counters();
  CHECK(c.delivered == 9);
  CHECK(c.dead_lettered == 1);
  std::ifstream dead(config.spool_dir + "/hec/dead-letter.jsonl");
  std::string line;
  REQUIRE(std::getline(dead, line));
  const auto row = json::parse(line);
  CHECK(row["event"]["id"] == "evt-00006");
  CHECK(row["reason"].get<std::string>().find("HTTP 400") == 0);
  CHECK_FALSE(std::getline(dead, line));
}

TEST_CASE("HEC: wrong token -> nothing lost, spooled, reported once; restart with the right token delivers",
          "[integration]") {
  Fixture f("hec-auth");
  Receiver receiver(f.record);
  std::string error;
  {
    auto sink = DeliveryService::start(f.hec(receiver.url(), "wrong-token"), f.log(), error);
    REQUIRE(sink);
    for (int i = 0; i < 20; ++i) sink->push(make_event(i));
    CHECK_FALSE(sink->flush(1500ms));
    const auto c = sink->counters();
    CHECK(c.config_error);
    CHECK(c.delivered == 0);
    CHECK(c.spool_events == 20);
    CHECK(c.last_error.find("HTTP 403") == 0);
  }  // stopped with a non-empty spool, as a restart would
  int loud = 0;
  for (const auto& line : f.logs) {
    loud += line.find("configuration error") != std::string::npos;
    CHECK(line.find("wrong-token") == std::string::npos);
  }
  CHECK(loud == 1);
  CHECK(f.received().empty());

  auto sink = DeliveryService::start(f.hec(receiver.url()), f.log(), error);
  REQUIRE(sink);
  CHECK(sink->counters().spool_events == 20);
  REQUIRE(sink->flush(10s));
  CHECK(f.received_ids() == expected_ids(20));
}

TEST_CASE("receiver down for a few seconds, then back: everything arrives, same ids", "[integration]") {
  Fixture f("hec-down");
  auto receiver = std::make_unique<Receiver>(f.record);
  const int port = receiver->port();
  receiver->stop();  // nothing listens now: connection refused
  std::string error;
  auto sink = DeliveryService::start(f.hec(fmt::format("http://127.0.0.1:{}", port)), f.log(), error);
  REQUIRE(sink);
  for (int i = 0; i < 30; ++i) sink->push(make_event(i));
  std::this_thread::sleep_for(3s);
  CHECK(sink->counters().delivered == 0);
  CHECK(sink->counters().retried > 0);
  receiver = std::make_unique<Receiver>(f.record, port);
  for (int i = 30; i < 40; ++i) sink->push(make_event(i));
  REQUIRE(sink->flush(10s));
  CHECK(f.received_ids() == expected_ids(40));
}

TEST_CASE("webhooks: Alertmanager, PagerDuty and Slack payloads pass the receiver's validation", "[integration]") {
  Fixture f("webhooks");
  Receiver receiver(f.record);
  std::string error;
  auto base = f.hec(receiver.url());
  base.type = SinkType::webhook;
  auto am = base, pd = base, slack = base;
  am.id = "am";
  am.format = WebhookFormat::alertmanager;
  am.url = receiver.url("/alertmanager");
  pd.id = "pd";
  pd.format = WebhookFormat::pagerduty;
  pd.url = receiver.url("/v2/enqueue");
  pd.routing_key = "RK";
  pd.batch_max_events = 1;
  slack.id = "slack";
  slack.format = WebhookFormat::slack;
  slack.url = receiver.url("/slack");
  slack.min_interval_ms = 300;
  slack.batch_max_events = 1;
  for (const auto& config : {am, pd, slack}) {
    auto sink = DeliveryService::start(config, f.log(), error);
    REQUIRE(sink);
    sink->push(make_event(0));
    sink->push(make_event(1, true));
    REQUIRE(sink->flush(10s));
    CHECK(sink->counters().delivered == 2);
    CHECK(sink->counters().dead_lettered == 0);
  }
  const auto rows = f.received();
  REQUIRE(rows.size() == 6);
  CHECK(rows[0]["kind"] == "alertmanager");
  CHECK(rows[0]["fingerprint"] == "ep-0");
  CHECK(rows[1]["status"] == "resolved");
  CHECK(rows[2]["action"] == "trigger");
  CHECK(rows[3]["action"] == "resolve");
  CHECK(rows[3]["dedup_key"] == rows[2]["dedup_key"]);
  CHECK(rows[4]["text"].get<std::string>().find(":rotating_light:") == 0);
  CHECK(rows[5]["text"].get<std::string>().find("Resolved") != std::string::npos);
}

TEST_CASE("file sink rotates by size and filters by severity", "[sinks]") {
  const auto dir = (fs::temp_directory_path() / fmt::format("flowlier-file-{}", ::getpid())).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  SinkConfig c;
  c.type = SinkType::file;
  c.id = "file";
  c.path = dir + "/events.jsonl";
  c.max_bytes = 1024;
  c.max_files = 2;
  c.min_severity = SinkSeverity::medium;
  std::string error;
  FileSink sink(c, error);
  REQUIRE(error.empty());
  for (int i = 0; i < 40; ++i) sink.push(make_event(i, false, i % 2 ? SinkSeverity::high : SinkSeverity::low));
  REQUIRE(sink.flush(1s));
  const auto counters = sink.counters();
  CHECK(counters.received == 40);
  CHECK(counters.filtered == 20);
  CHECK(counters.delivered == 20);
  CHECK(fs::exists(c.path + ".1"));
  CHECK(fs::file_size(c.path) <= 1024);
  std::ifstream in(c.path);
  std::string line;
  REQUIRE(std::getline(in, line));
  CHECK(json::parse(line)["severity"] == "high");
  fs::remove_all(dir);
}

namespace {
// Runs `flowlier replay` with the given arguments in the background; stderr to `log`.
pid_t spawn_replay(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(FLOWLIER_BINARY), const_cast<char*>("replay")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(FLOWLIER_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

std::size_t spool_bytes(const std::string& dir) {
  std::size_t total = 0;
  std::error_code ec;
  if (!fs::exists(dir)) return 0;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".log") total += fs::file_size(entry.path(), ec);
  return total;
}
}  // namespace

TEST_CASE("flowlier replay killed with -9 and a non-empty spool: the next run delivers the rest", "[integration]") {
  const std::string sample = std::string(FLOWLIER_SOURCE_DIR) + "/examples/sample/AWSLogs";
  REQUIRE_SAMPLE(sample);
  Fixture f("replay-kill");
  Receiver receiver(f.record);
  receiver.control({{"status", std::vector<int>(100000, 503)}});  // an outage: everything stays spooled
  const auto config = f.dir + "/flowlier.toml";
  std::ofstream(config) << fmt::format(
      "[[sinks]]\ntype = \"splunk_hec\"\nid = \"hec\"\nurl = \"{}\"\ntoken = \"good-token\"\nspool_dir = \"{}\"\n"
      "backoff_initial_ms = 50\nbackoff_max_ms = 200\nbatch_timeout_ms = 50\n",
      receiver.url(), f.dir + "/spool");
  const auto events = f.dir + "/events.jsonl";
  const pid_t first =
      spawn_replay({"-c", config, "-o", events, "-q", "--sink-wait", "60", sample}, f.dir + "/first.log");
  // Wait until the whole run is spooled (the events file is written before the sink wait).
  const auto give_up = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < give_up) {
    std::ifstream log(f.dir + "/first.log");
    std::stringstream text;
    text << log.rdbuf();
    if (text.str().find("events:") != std::string::npos && spool_bytes(f.dir + "/spool/hec") > 0) break;
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(200ms);
  ::kill(first, SIGKILL);
  ::waitpid(first, nullptr, 0);
  CHECK(f.received().empty());
  REQUIRE(spool_bytes(f.dir + "/spool/hec") > 0);

  std::vector<std::string> written;
  {
    std::ifstream in(events);
    for (std::string line; std::getline(in, line);) written.push_back(json::parse(line)["id"].get<std::string>());
  }
  REQUIRE(!written.empty());

  receiver.control({{"status", json::array()}});  // receiver healthy again
  const auto empty = f.dir + "/empty.log";
  std::ofstream(empty).close();
  const pid_t second = spawn_replay({"-c", config, "-q", "--sink-wait", "15", empty}, f.dir + "/second.log");
  int status = 0;
  ::waitpid(second, &status, 0);
  CHECK(f.received_ids() == written);
  std::ifstream log(f.dir + "/second.log");
  std::stringstream text;
  text << log.rdbuf();
  CHECK(text.str().find(fmt::format("delivered {}", written.size())) != std::string::npos);
}

TEST_CASE("a full spool under drop_newest drops and counts; the books balance", "[integration]") {
  Fixture f("spool-full");
  auto config = f.hec("http://127.0.0.1:1");  // nothing listens: every attempt fails
  config.spool_max_bytes = 4096;
  config.spool_full_policy = SpoolFullPolicy::drop_newest;
  config.min_severity = SinkSeverity::medium;
  std::string error;
  auto sink = DeliveryService::start(config, f.log(), error);
  REQUIRE(sink);
  for (int i = 0; i < 60; ++i) sink->push(make_event(i, false, i % 3 == 0 ? SinkSeverity::low : SinkSeverity::high));
  const auto c = sink->counters();
  CHECK(c.received == 60);
  CHECK(c.filtered == 20);
  CHECK(c.dropped > 0);
  CHECK(c.delivered == 0);
  CHECK(c.spool_bytes <= 4096);
  CHECK(c.received == c.filtered + c.dropped + c.delivered + c.dead_lettered + c.spool_events);
}

TEST_CASE("a full spool under block (the default) holds the producer back and loses nothing", "[integration]") {
  Fixture f("spool-block");
  Receiver receiver(f.record);
  receiver.control({{"status", std::vector<int>(5, 503)}});
  auto config = f.hec(receiver.url());
  config.spool_max_bytes = 4096;  // about 12 events
  config.batch_max_events = 5;
  std::string error;
  auto sink = DeliveryService::start(config, f.log(), error);
  REQUIRE(sink);
  for (int i = 0; i < 60; ++i) sink->push(make_event(i));
  REQUIRE(sink->flush(10s));
  CHECK(f.received_ids() == expected_ids(60));
  CHECK(sink->counters().dropped == 0);
  CHECK(sink->counters().retried == 5);
}

TEST_CASE("FileSink: written through before counted delivered; a torn last line is cut on open", "[sinks]") {
  const auto dir = (fs::temp_directory_path() / fmt::format("flowlier-torn-{}", ::getpid())).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  SinkConfig c;
  c.type = SinkType::file;
  c.id = "file";
  c.path = dir + "/events.jsonl";
  std::string error;
  {
    FileSink sink(c, error);
    REQUIRE(error.empty());
    sink.push(make_event(1));
    // No flush, no close: what a kill -9 would leave is already in the file.
    CHECK(fs::file_size(c.path) == make_event(1).json.size() + 1);
  }
  // A crash mid-write: the last line without its newline.
  std::ofstream(c.path, std::ios::app | std::ios::binary) << R"({"id":"evt-00002","status":"fir)";
  FileSink reopened(c, error);
  REQUIRE(error.empty());
  CHECK(reopened.counters().torn_lines_cut == 1);
  reopened.push(make_event(2));
  std::ifstream in(c.path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  CHECK(lines == std::vector<std::string>{make_event(1).json, make_event(2).json});
  fs::remove_all(dir);
}
