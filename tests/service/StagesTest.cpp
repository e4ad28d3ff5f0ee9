// The live service's stages (service/RunStages) in one process over inproc://, as
// `flowlier run` wires them: intake -> N scoring engines -> publish (PUB). They publish
// exactly the events Intake + N engines give in replay (before replay's final flush).
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "pipeline/Gzip.hpp"
#include "pipeline/InputFiles.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/ShardedEngines.hpp"
#include "service/RunStages.hpp"
#include "tests/support/CollectingSink.hpp"
#include "transport/ZmqSockets.hpp"

using namespace flowlier;
using namespace flowlier::service;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {
// The demo sample as flow log messages of a few hundred lines, each with its header,
// in file order: what a pushing peer sends.
std::vector<std::string> sample_messages() {
  const fs::path root = fs::path(FLOWLIER_SOURCE_DIR) / "examples" / "sample" / "AWSLogs";
  std::vector<std::string> messages;
  for (const auto& file : pipeline::expand_inputs({root.string()}).files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream raw;
    raw << in.rdbuf();
    std::string text;
    REQUIRE(pipeline::gunzip(raw.str(), text, std::size_t{1} << 30).empty());
    std::istringstream lines(text);
    std::string header, line, chunk;
    std::getline(lines, header);
    int n = 0;
    while (std::getline(lines, line)) {
      chunk += line + "\n";
      if (++n % 500 == 0) {
        messages.push_back(header + "\n" + chunk);
        chunk.clear();
      }
    }
    if (!chunk.empty()) messages.push_back(header + "\n" + chunk);
  }
  return messages;
}

// What replay's Intake + engines emit for the same messages, before the final flush
// (the live service never flushes: open windows stay open in its snapshots).
std::set<std::string> replay_events(const std::vector<std::string>& messages, std::uint32_t engines) {
  pipeline::ShardedEngines replay({}, engines);
  test::CollectingSink decoded;
  for (const auto& m : messages) {
    auto decoder = pipeline::make_decoder(pipeline::InputFormat::aws_text, {});
    decoder->feed(m, 1, decoded);
    decoder->finish(decoded);
  }
  REQUIRE(decoded.rejects.empty());
  for (const auto& r : decoded.records) replay.process(r);
  replay.sync();
  std::set<std::string> out;
  for (const auto& e : replay.take_events()) out.insert(e.to_json());
  return out;
}
}  // namespace

TEST_CASE("intake, scoring and publish over inproc publish what replay's engines find", "[service][stages]") {
  const auto messages = sample_messages();
  REQUIRE(messages.size() > 50);
  constexpr std::uint32_t kEngines = 2;
  const auto expected = replay_events(messages, 1);
  REQUIRE(expected.size() > 5);
  CHECK(replay_events(messages, kEngines) == expected);

  pipeline::Config config;
  config.service.idle_seconds = 0;  // event time only: the test must not depend on the clock
  zmq::context_t context(1);
  const auto socket = [&](zmq::socket_type type) {
    zmq::socket_t s(context, type);
    transport::apply_options(s, {});
    return s;
  };
  RunMetrics metrics;
  std::vector<std::unique_ptr<pipeline::Engine>> engines;
  for (std::uint32_t k = 0; k < kEngines; ++k) {
    pipeline::EngineConfig shard = config.engine;
    shard.shard_index = k;
    shard.shard_count = kEngines;
    engines.push_back(std::make_unique<pipeline::Engine>(shard));
    metrics.shards.emplace_back();
  }
  pipeline::IntakeRouter intake(config.engine, kEngines);

  zmq::socket_t flows = socket(zmq::socket_type::pull);
  flows.bind("inproc://test.flows");
  std::vector<zmq::socket_t> to_engines, engine_in, engine_out;
  for (std::uint32_t k = 0; k < kEngines; ++k) {
    engine_in.push_back(socket(zmq::socket_type::pull));
    engine_in.back().bind(fmt::format("inproc://test.records.{}", k));
    to_engines.push_back(socket(zmq::socket_type::push));
    to_engines.back().connect(fmt::format("inproc://test.records.{}", k));
  }
  zmq::socket_t events_in = socket(zmq::socket_type::pull);
  events_in.bind("inproc://test.events");
  for (std::uint32_t k = 0; k < kEngines; ++k) {
    engine_out.push_back(socket(zmq::socket_type::push));
    engine_out.back().connect("inproc://test.events");
  }
  transport::ZmqPublisher publisher(context, "inproc://test.pub", {});
  zmq::socket_t sub = socket(zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::rcvhwm, 0);
  sub.connect("inproc://test.pub");
  std::string sink_error;
  auto sinks = SinkBridge::open(flowlier::core::ConfigDocument(), "", sink_error);
  REQUIRE(sinks);

  std::atomic<bool> stopping{false};
  const std::string no_state;
  std::vector<std::thread> threads;
  zmq::socket_t no_follower;  // no --follow source: the intake polls the flows socket only
  threads.emplace_back(intake_stage, std::move(flows), std::move(no_follower), std::ref(to_engines), Hop::inproc,
                       std::cref(config), std::ref(intake), std::cref(no_state), std::ref(metrics),
                       std::cref(stopping));
  for (std::uint32_t k = 0; k < kEngines; ++k) {
    threads.emplace_back(scoring_stage, std::move(engine_in[k]), std::move(engine_out[k]),
                         ScoringShard{engines[k].get(), "", &metrics.shards[k], k, nullptr}, std::cref(config),
                         Hop::inproc, std::ref(metrics), std::cref(stopping));
  }
  threads.emplace_back(publish_stage, std::move(events_in), std::ref(publisher), std::ref(*sinks), Hop::inproc,
                       std::size_t{kEngines}, std::ref(metrics), std::cref(stopping));

  zmq::socket_t push = socket(zmq::socket_type::push);
  push.connect("inproc://test.flows");
  for (const auto& m : messages) REQUIRE(push.send(zmq::buffer(m), zmq::send_flags::none));

  std::set<std::string> published;
  std::uint64_t last_sequence = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (published.size() < expected.size() && std::chrono::steady_clock::now() < deadline) {
    std::vector<zmq::message_t> parts;
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, 100ms);
    if (!(item.revents & ZMQ_POLLIN) || !zmq::recv_multipart(sub, std::back_inserter(parts))) continue;
    REQUIRE(parts.size() == 3);  // [topic][event][sequence]
    const std::string json = parts[1].to_string();
    CHECK(parts[0].to_string().find(json.find("\"resolved\"") != std::string::npos ? "resolved." : "anomaly.") == 0);
    published.insert(json);
    const std::uint64_t sequence = std::stoull(parts[2].to_string());  // decimal text
    CHECK(sequence == last_sequence + 1);
    last_sequence = sequence;
  }
  // Shutdown as run does it: the intake stops and its end marker drains every stage.
  stopping = true;
  for (auto& t : threads) t.join();

  CHECK(published == expected);
  CHECK(metrics.records_received.load() == metrics.records_scored.load());
  CHECK(metrics.records_received.load() > 10000);
  CHECK(metrics.events_hop_sent.load() == metrics.events_hop_taken.load());
  // The intake routes once; the engines, fed observations, never drop one as another
  // shard's, and /metrics says so.
  CHECK(render_metrics(metrics).find("\nflowlier_other_shard_observations_total 0\n") != std::string::npos);
  std::uint64_t entities = 0;
  for (const auto& e : engines) entities += e->entity_count();
  CHECK(entities > 0);
}
