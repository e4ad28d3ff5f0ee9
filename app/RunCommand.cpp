// flowlier run: the live service. In one process (role single):
//
//   intake  (PULL bound on endpoints.flows_in; decodes each message, format detected
//            per message; routes records to entity shards; watermark, idle timeout)
//              --PUSH/PULL inproc://flowlier.records.K, one per shard-->
//   scoring (service.scoring_threads engines, each owning a shard of the entities;
//            periodic and final state snapshots)
//              --PUSH/PULL inproc://flowlier.events-->
//   publish (PUB bound on endpoints.events_out: [topic][event JSON][sequence]; sinks)
//
// plus the metrics responder (endpoints.metrics: /metrics, /healthz, /readyz). The
// stages (service/RunStages) are the same when they run as separate processes over tcp
// (role ingest | score | publish). Hops block at their high-water mark (counted),
// never drop.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zmq.hpp>

#include "app/Commands.hpp"
#include "app/KafkaRunCommand.hpp"
#include "service/EpisodeJournal.hpp"
#include "service/InputSources.hpp"
#include "service/LiveRejects.hpp"
#include "service/RuleService.hpp"
#include "service/RunMetrics.hpp"
#include "service/RunStages.hpp"
#include "service/SinkBridge.hpp"
#include "pipeline/Config.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/IntakeRouter.hpp"
#include "pipeline/MemoryLimit.hpp"
#include "pipeline/ShardStateFiles.hpp"
#include "transport/MetricsServer.hpp"
#include "transport/PrometheusText.hpp"
#include "transport/TcpServerSocket.hpp"
#include "transport/ZmqCurve.hpp"
#include "transport/ZmqMonitor.hpp"
#include "transport/ZmqPublisher.hpp"
#include "transport/ZmqSockets.hpp"

namespace flowlier::app {

namespace {
using namespace flowlier::pipeline;
using namespace flowlier::service;

constexpr const char* kEventsHop = "inproc://flowlier.events";
// The intake PULL also binds this: --follow, --stdin and --http-listen push here.
constexpr const char* kSourcesHop = "inproc://flowlier.sources";
// Followed files' records, already decoded and merged by time (RecordWire batches).
constexpr const char* kFollowRecordsHop = "inproc://flowlier.follow-records";
constexpr std::uint32_t kMaxAutoScoringThreads = 8;
constexpr int kMaxBatchesInFlight = 16;  // per engine; see where the record hops are made

struct RunOptions {
  std::string config;
  std::string check_config;
  std::string metrics;        // overrides endpoints.metrics (several stages on one host)
  ServiceConfig service;      // each option given on the command line overrides the config's
  SecurityConfig security;
  SourceOptions sources;      // --follow, --stdin, --http-listen
  std::set<std::string> given;  // names of the [service]/[security] options given
};

// Applies the command-line options that were given over the config file's values.
void apply_command_line(const RunOptions& o, Config& config) {
  const auto given = [&o](const char* name) { return o.given.count(name) > 0; };
  auto& s = config.service;
  if (given("role")) s.role = o.service.role;
  if (given("scoring-threads")) s.scoring_threads = o.service.scoring_threads;
  if (given("hwm")) s.hwm = o.service.hwm;
  if (given("idle-seconds")) s.idle_seconds = o.service.idle_seconds;
  if (given("listen")) s.listen = o.service.listen;
  if (given("publish-to")) s.publish_to = o.service.publish_to;
  if (given("shards")) s.shards = o.service.shards;
  if (given("shard-index")) s.shard_index = o.service.shard_index;
  if (given("shard-count")) s.shard_count = o.service.shard_count;
  if (given("rejects")) s.rejects_file = o.service.rejects_file;
  auto& k = config.security;
  if (given("curve-secret")) k.curve_secret_key_file = o.security.curve_secret_key_file;
  if (given("curve-allow")) k.curve_allow_file = o.security.curve_allow_file;
  if (given("curve-peer")) k.curve_peer_file = o.security.curve_peer_file;
}

// What each role needs; "" when the settings hang together.
std::string check_service(const Config& config, bool has_sources) {
  const auto& s = config.service;
  // The config file checks these too; options given on the command line come here only.
  if (s.hwm < 1 || s.hwm > 1'000'000) return "service.hwm / --hwm must be between 1 and 1000000";
  if (s.scoring_threads > 256) return "service.scoring_threads / --scoring-threads must be at most 256";
  if (!(s.idle_seconds >= 0)) return "service.idle_seconds / --idle-seconds must not be negative";
  if (s.role == "ingest" && s.shards.empty()) {
    return "role ingest needs service.shards / --shards ENDPOINT,... (the scorers' listen endpoints)";
  }
  if (s.role == "score" && (s.listen.empty() || s.publish_to.empty() || s.shard_count < 1 ||
                            s.shard_index >= s.shard_count)) {
    return "role score needs listen, publish_to and shard_index < shard_count (service.* or --listen, "
           "--publish-to, --shard-index, --shard-count)";
  }
  if (s.role == "publish" && s.listen.empty()) return "role publish needs service.listen / --listen";
  if (has_sources && s.role != "single" && s.role != "ingest") {
    return "--follow, --stdin and --http-listen belong to the single or ingest role";
  }
  if (!config.security.curve_secret_key_file.empty() && config.security.curve_allow_file.empty()) {
    // A CURVE server without ZAP admits anyone who knows its public key.
    return "security.curve_secret_key_file / --curve-secret needs security.curve_allow_file / --curve-allow";
  }
  // Endpoints given on the command line are checked here (the config file's by its parser).
  std::vector<std::tuple<std::string, std::string, bool>> endpoints{
      {"endpoints.flows_in", config.endpoints.flows_in, true}, {"endpoints.events_out", config.endpoints.events_out, true}};
  if (!s.listen.empty()) endpoints.emplace_back("service.listen / --listen", s.listen, true);
  if (!s.publish_to.empty()) endpoints.emplace_back("service.publish_to / --publish-to", s.publish_to, false);
  for (const auto& shard : s.shards) endpoints.emplace_back("service.shards / --shards", shard, false);
  for (const auto& [name, endpoint, bind] : endpoints) {
    if (auto error = zmq_endpoint_error(endpoint, bind); !error.empty()) return fmt::format("{}: {}", name, error);
  }
  std::string host;
  std::uint16_t port = 0;
  if (!transport::split_host_port(config.endpoints.metrics, host, port)) {
    return fmt::format("endpoints.metrics '{}' is not host:port", config.endpoints.metrics);
  }
  return {};
}

// Engines in this process: the configured count; with 0 (automatic) the count that
// wrote the snapshots there, else one per core. A configured count that differs from
// the snapshots' is refused rather than silently starting from nothing.
std::uint32_t engine_count(const Config& config, std::string& error) {
  if (config.service.role != "single") return 1;
  return choose_engine_count(config.service.scoring_threads, config.state.path, kMaxAutoScoringThreads,
                             "service.scoring_threads =", error);
}

// Applies the episode journal at `path` to a restored (or fresh) engine: the records
// written after its snapshot carry the episodes published since. Every journaled event
// is added to `events`.
std::string replay_journal(const std::string& path, Engine& engine, std::vector<std::string>& events) {
  std::vector<EpisodeJournal::Entry> entries;
  std::uint64_t cut = 0;
  if (auto error = EpisodeJournal::read(path, entries, cut); !error.empty()) return error;
  if (cut > 0) fmt::print(stderr, "run: {}: a torn last record ({} bytes) is ignored\n", path, cut);
  std::size_t applied = 0;
  for (auto& entry : entries) {
    if (entry.close_point > engine.last_close_point()) {
      if (auto error = engine.apply_episode_changes(entry.episode_changes); !error.empty()) return error;
      ++applied;
    }
    for (auto& e : entry.events) events.push_back(std::move(e));
  }
  if (!entries.empty()) {
    fmt::print(stderr, "run: {}: {} records, {} newer than the snapshot applied to the episodes\n", path,
               entries.size(), applied);
  }
  return {};
}

int run_service(const RunOptions& o) {
  if (!o.check_config.empty()) {
    auto loaded = load_config_file(o.check_config);
    if (loaded.error.empty()) apply_command_line(o, loaded.config);
    std::string error = loaded.error.empty() ? check_service(loaded.config, false) : loaded.error;
    if (std::string kafka_error; error.empty() && has_kafka_source(loaded.config.document, kafka_error)) error = kafka_error;
    if (!error.empty()) {
      fmt::print(stderr, "run: config error: {}\n", error);
      return 2;
    }
    fmt::print("{}: ok\n", o.check_config);
    return 0;
  }
  Config config;
  if (!o.config.empty()) {
    auto loaded = load_config_file(o.config);
    if (!loaded.error.empty()) {
      fmt::print(stderr, "run: config error: {}\n", loaded.error);
      return 2;
    }
    config = std::move(loaded.config);
  }
  apply_command_line(o, config);
  // [source.kafka]: a consumer-group member (app/KafkaRunCommand) instead of the stages.
  std::string kafka_error;
  if (has_kafka_source(config.document, kafka_error)) {
    if (!kafka_error.empty()) {
      fmt::print(stderr, "run: config error: {}\n", kafka_error);
      return 2;
    }
    return run_kafka(config, o.config, o.metrics.empty() ? config.endpoints.metrics : o.metrics);
  }
  const bool has_sources = !o.sources.follow.empty() || o.sources.from_stdin || !o.sources.http_listen.empty();
  if (auto error = check_service(config, has_sources); !error.empty()) {
    fmt::print(stderr, "run: {}\n", error);
    return 2;
  }
  const auto& service = config.service;
  const std::string& role = service.role;
  const bool single = role == "single";

  // The engines: one per scoring thread in one process, this scorer's shard in the
  // score role, none for ingest and publish (they own no state).
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::string> state_paths;
  std::string entity_limit_reason = "max_entities";  // which bound caps the entity tables
  std::uint64_t entity_limit_total = 0;
  // In one process with a state path, each engine's episode journal (service/EpisodeJournal)
  // and the journaled events to hand to the sinks again once they are open.
  std::vector<std::unique_ptr<EpisodeJournal>> journals;
  std::vector<std::string> journaled_events;
  if (single || role == "score") {
    std::string layout_error;
    const std::uint32_t count = single ? engine_count(config, layout_error) : service.shard_count;
    if (!layout_error.empty()) {
      fmt::print(stderr, "run: cannot restore: {}\n", layout_error);
      return 2;
    }
    const std::uint32_t first = single ? 0 : service.shard_index;
    const std::uint32_t last = single ? count : service.shard_index + 1;
    for (std::uint32_t k = first; k < last; ++k) {
      EngineConfig engine_config = config.engine;
      engine_config.shard_index = k;
      engine_config.shard_count = count;
      // [limits] max_memory is shared by the engines of this process.
      const auto cap = entity_cap(engine_config.windows.max_entities, config.limits.max_memory, single ? count : 1);
      engine_config.windows.max_entities = cap.max_entities;
      entity_limit_reason = cap.by_memory ? "max_memory" : "max_entities";
      entity_limit_total += cap.max_entities;
      engines.push_back(std::make_unique<Engine>(engine_config));
      state_paths.push_back(single ? shard_state_path(config.state.path, k, count) : config.state.path);
      const std::string& path = state_paths.back();
      if (!path.empty() && std::filesystem::exists(path)) {
        if (auto error = read_state_file(*engines.back(), path); !error.empty()) {
          // Refuse rather than silently start from nothing and re-open known episodes.
          fmt::print(stderr, "run: cannot restore {}: {} (move it away to start fresh)\n", path, error);
          return 2;
        }
        fmt::print(stderr, "run: restored state from {} ({} entities)\n", path, engines.back()->entity_count());
      }
      if (!single || path.empty()) continue;
      if (auto error = replay_journal(path + ".journal", *engines.back(), journaled_events); !error.empty()) {
        fmt::print(stderr, "run: cannot restore {}.journal: {} (move it away to start fresh)\n", path, error);
        return 2;
      }
      engines.back()->record_episode_changes(true);
      journals.push_back(std::make_unique<EpisodeJournal>(path + ".journal"));
      if (auto error = journals.back()->open(); !error.empty()) {
        fmt::print(stderr, "run: episode journal: {}\n", error);
        return 2;
      }
    }
  }
  // Operator rules: one book for every engine of this process, replaced on SIGHUP.
  const auto rule_book = make_rule_book(config.rules, "run");
  for (auto& engine : engines) engine->set_rules(rule_book);
  // The engines of this process judge young addresses by the peers of every shard, as
  // replay does; a --role scorer's groups are its own shard's (no exchange across hosts).
  std::shared_ptr<PeerExchange> peer_exchange;
  if (engines.size() > 1 && config.engine.peers.enabled) {
    peer_exchange = std::make_shared<PeerExchange>(static_cast<std::uint32_t>(engines.size()));
    for (auto& engine : engines) engine->set_peer_exchange(peer_exchange);
  }
  // The intake routes for the engines in this process (its router state is saved beside
  // theirs) or picks the scorer processes of each record (ingest role; no state).
  IntakeRouter intake(config.engine, single ? static_cast<std::uint32_t>(engines.size())
                                            : static_cast<std::uint32_t>(std::max<std::size_t>(1, service.shards.size())));
  // The ingest role's intake routes for scorer processes: its learnt interfaces are
  // its own state, beside its own state.path.
  const std::string intake_state = single || role == "ingest" ? intake_state_path(config.state.path) : "";
  const bool engines_restored = role == "ingest" || std::any_of(state_paths.begin(), state_paths.end(),
                                                                 [](const std::string& p) {
                                                                   return !p.empty() && std::filesystem::exists(p);
                                                                 });
  std::string intake_note;
  if (auto error = restore_intake(intake, intake_state, engines, engines_restored, intake_note); !error.empty()) {
    fmt::print(stderr, "run: cannot restore {}: {} (move it away to start fresh)\n", intake_state, error);
    return 2;
  }
  if (!intake_note.empty()) fmt::print(stderr, "run: {}\n", intake_note);

  // Signals go to the main thread only: block them before any thread (ZeroMQ's too)
  // exists, then wait for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);  // reloads the rules
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  RunMetrics metrics;
  // Rejected live input, written where it is decoded (intake, followed files).
  std::unique_ptr<LiveRejects> reject_log;
  if (!service.rejects_file.empty() && (single || role == "ingest")) {
    reject_log = std::make_unique<LiveRejects>(service.rejects_file, service.rejects_max_bytes, service.rejects_max_files);
    if (auto error = reject_log->open(); !error.empty()) {
      fmt::print(stderr, "run: service.rejects_file / --rejects: {}\n", error);
      return 2;
    }
    metrics.reject_log = reject_log.get();
  }
  metrics.entity_limit = entity_limit_total;
  metrics.entity_limit_reason = entity_limit_reason;
  metrics.peer_exchange = peer_exchange.get();
  for (const auto& engine : engines) {
    metrics.shards.emplace_back().entities.store(engine->entity_count());
    metrics.shards.back().dropped_table_full.store(engine->window_stats().dropped_table_full);
  }
  zmq::context_t context(1);
  transport::SocketOptions hop;
  hop.send_hwm = hop.receive_hwm = static_cast<int>(std::min<std::uint32_t>(service.hwm, INT32_MAX));
  // Sockets that carry data out of this process over tcp get a linger, so what the
  // stage drained at shutdown still reaches the next process; inproc hops and intake
  // drop nothing at close because the end marker has already passed through them.
  transport::SocketOptions outbound = hop;
  outbound.linger_ms = 5000;
  const auto socket = [&](zmq::socket_type type, const transport::SocketOptions& options) {
    zmq::socket_t s(context, type);
    transport::apply_options(s, options);
    return s;
  };
  // Stable stages bind, workers connect: the single process binds everything; in a
  // sharded deployment scorers and the publisher bind (listen), ingest and scorers
  // connect to them.
  // CURVE: every tcp socket of this process is encrypted; bound sockets admit only the
  // allow-listed client keys (ZAP), connecting sockets authenticate the server's key.
  std::optional<transport::CurveKeyPair> curve;
  std::vector<std::string> peer_keys;
  std::unique_ptr<transport::ZapHandler> zap;
  const auto& security = config.security;
  if (!security.curve_secret_key_file.empty()) {
    std::string error;
    auto secret = transport::read_key_file(security.curve_secret_key_file, error);
    std::optional<std::string> public_key = secret ? transport::curve_public_key(*secret) : std::nullopt;
    if (!secret || !public_key) {
      fmt::print(stderr, "run: security.curve_secret_key_file / --curve-secret: {}\n",
                 error.empty() ? security.curve_secret_key_file + ": not a CURVE secret key" : error);
      return 2;
    }
    auto allowed = transport::read_keys_file(security.curve_allow_file, error);
    if (!allowed) {
      fmt::print(stderr, "run: security.curve_allow_file / --curve-allow: {}\n", error);
      return 2;
    }
    // A secret key in the allow-list would be a secret shared with every client.
    if (allowed->count(*secret) > 0) {
      fmt::print(stderr, "run: {} (security.curve_allow_file / --curve-allow) holds the server's secret key from {}: "
                         "list the clients' public keys (their .pub files)\n",
                 security.curve_allow_file, security.curve_secret_key_file);
      return 2;
    }
    if (role == "ingest" || role == "score") {
      std::ifstream in(security.curve_peer_file);
      for (std::string line; std::getline(in, line);) {
        if (line.starts_with("#") && line.find("CURVE secret key") != std::string::npos) {
          fmt::print(stderr, "run: {} (security.curve_peer_file / --curve-peer) is a CURVE secret key file: give the "
                             "server's public key (its .pub file)\n",
                     security.curve_peer_file);
          return 2;
        }
        if (transport::is_z85_key(line)) peer_keys.push_back(line);
      }
      const std::size_t needed = role == "ingest" ? service.shards.size() : 1;
      if (peer_keys.size() == 1) peer_keys.resize(needed, peer_keys.front());
      if (peer_keys.size() != needed) {
        fmt::print(stderr, "run: the CURVE peer file needs one server public key, or one per shard in shards order\n");
        return 2;
      }
    }
    curve = transport::CurveKeyPair{*public_key, *secret};
    fmt::print(stderr, "run: CURVE on, public key {}, {} allowed client keys\n", *public_key, allowed->size());
    zap = std::make_unique<transport::ZapHandler>(context, std::move(*allowed));
    metrics.zap = zap.get();
  }
  const auto serve = [&](zmq::socket_t& s) {
    if (curve) transport::make_curve_server(s, curve->secret_key);
  };
  const auto client_of = [&](zmq::socket_t& s, std::size_t peer) {
    if (curve) transport::make_curve_client(s, *curve, peer_keys[peer]);
  };
  std::unique_ptr<transport::ZmqPublisher> publisher;
  zmq::socket_t flows, follow_records, events_in;
  std::vector<zmq::socket_t> shards, scorer_in, scorer_out;  // intake side; per engine
  std::string doing;  // the bind or connect under way, named when it fails (port in use)
  // Handshake failures and dropped peers of every bound endpoint (ZmqMonitor.hpp).
  std::vector<std::unique_ptr<transport::SocketMonitor>> monitors;
  const auto monitor = [&](zmq::socket_t& s, const char* name) {
    monitors.push_back(std::make_unique<transport::SocketMonitor>(context, s));
    metrics.monitors.emplace_back(name, monitors.back().get());
  };
  try {
    if (single) {
      // A batch is one message's observations for one engine (up to megabytes): a few
      // in flight keep the engines busy, a thousand would only hold memory while they
      // fall behind. So these hops are capped, whatever --hwm says.
      transport::SocketOptions batch_hop = hop;
      batch_hop.send_hwm = batch_hop.receive_hwm = std::min(hop.send_hwm, kMaxBatchesInFlight);
      for (std::size_t k = 0; k < engines.size(); ++k) {
        const std::string endpoint = fmt::format("inproc://flowlier.records.{}", k);
        scorer_in.push_back(socket(zmq::socket_type::pull, batch_hop));
        scorer_in.back().bind(endpoint);
        shards.push_back(socket(zmq::socket_type::push, batch_hop));
        shards.back().connect(endpoint);
      }
      events_in = socket(zmq::socket_type::pull, hop);
      events_in.bind(kEventsHop);
      for (std::size_t k = 0; k < engines.size(); ++k) {
        scorer_out.push_back(socket(zmq::socket_type::push, hop));
        scorer_out.back().connect(kEventsHop);
      }
    }
    if (single || role == "ingest") {
      flows = socket(zmq::socket_type::pull, hop);
      // A peer sending a message larger than any document we would decode is
      // disconnected by ZeroMQ before the message is buffered whole.
      flows.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(config.decoder.max_document_bytes));
      serve(flows);
      monitor(flows, "endpoints.flows_in");
      doing = "bind endpoints.flows_in " + config.endpoints.flows_in;
      flows.bind(config.endpoints.flows_in);
      doing = "bind the built-in sources' hop";
      flows.bind(kSourcesHop);
      follow_records = zmq::socket_t(context, zmq::socket_type::pull);
      follow_records.set(zmq::sockopt::linger, 0);
      follow_records.set(zmq::sockopt::rcvhwm, 4);  // the follower's batches wait in its merge
      follow_records.bind(kFollowRecordsHop);
    }
    if (role == "ingest") {
      for (const auto& endpoint : service.shards) {
        shards.push_back(socket(zmq::socket_type::push, outbound));
        client_of(shards.back(), shards.size() - 1);
        doing = "connect service.shards " + endpoint;
        shards.back().connect(endpoint);
      }
    }
    if (role == "score") {
      scorer_in.push_back(socket(zmq::socket_type::pull, hop));
      serve(scorer_in.back());
      monitor(scorer_in.back(), "service.listen");
      doing = "bind service.listen " + service.listen;
      scorer_in.back().bind(service.listen);
      scorer_out.push_back(socket(zmq::socket_type::push, outbound));
      client_of(scorer_out.back(), 0);
      doing = "connect service.publish_to " + service.publish_to;
      scorer_out.back().connect(service.publish_to);
    }
    if (role == "publish") {
      events_in = socket(zmq::socket_type::pull, hop);
      serve(events_in);
      monitor(events_in, "service.listen");
      doing = "bind service.listen " + service.listen;
      events_in.bind(service.listen);
    }
    if (single || role == "publish") {
      // A short linger: the last events reach connected subscribers before exit, but a
      // stuck subscriber cannot hold the shutdown for long.
      transport::SocketOptions pub = hop;
      pub.linger_ms = 1000;
      doing = "bind endpoints.events_out " + config.endpoints.events_out;
      publisher = std::make_unique<transport::ZmqPublisher>(context, config.endpoints.events_out, pub, 1,
                                                            curve ? curve->secret_key : std::string());
      monitor(publisher->socket(), "endpoints.events_out");
    }
  } catch (const zmq::error_t& e) {
    fmt::print(stderr, "run: cannot {}: {}\n", doing.empty() ? "set up the internal hops" : doing, e.what());
    return 2;
  }

  // The entity API's mailboxes, one per engine of this process.
  std::vector<std::unique_ptr<EngineQueries>> queries;
  for (std::size_t k = 0; k < engines.size(); ++k) queries.push_back(std::make_unique<EngineQueries>());
  transport::MetricsServer server([&metrics, &rule_book, &queries](std::string_view path,
                                                                  std::string_view query) -> transport::MetricsReply {
    if (auto reply = entity_api_reply(path, query, queries)) return *reply;
    if (path == "/metrics") {
      return {200, transport::PrometheusText::kContentType, render_metrics(metrics) + render_rule_metrics(*rule_book)};
    }
    if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
    if (path == "/readyz") {
      if (!metrics.ready.load()) return {503, "text/plain; charset=utf-8", "not ready\n"};
      // New entities refused lately: the service is at its memory (or entity) limit and
      // does not see what they do.
      if (metrics.entity_limit_reached()) {
        return {503, "text/plain; charset=utf-8",
                fmt::format("not ready: entity limit reached ({}): new entities are refused\n",
                            metrics.entity_limit_reason)};
      }
      // A sink refused for its credentials (401/403) is a configuration error: events
      // pile up in its spool, so the service says it is not ready, naming the sink.
      if (const SinkBridge* bridge = metrics.sinks.load(); bridge != nullptr) {
        if (auto id = bridge->misconfigured(); !id.empty())
          return {503, "text/plain; charset=utf-8", fmt::format("not ready: sink {} has a configuration error\n", id)};
      }
      return {200, "text/plain; charset=utf-8", "ready\n"};
    }
    return {404, "text/plain; charset=utf-8", "not found\n"};
  });
  const std::string metrics_endpoint = o.metrics.empty() ? config.endpoints.metrics : o.metrics;
  if (auto error = server.start(metrics_endpoint); !error.empty()) {
    fmt::print(stderr, "run: metrics: {}\n", error);
    return 2;
  }

  fmt::print(stderr, "run ({}{}): flows in {}, events out {}, metrics http://{}/metrics\n", role,
             single ? fmt::format(", {} scoring engine{}", engines.size(), engines.size() == 1 ? "" : "s") : "",
             single || role == "ingest" ? config.endpoints.flows_in : service.listen,
             publisher             ? publisher->endpoint()
             : role == "ingest" ? fmt::format("{} shards", shards.size())
                                   : service.publish_to,
             metrics_endpoint);
  // Sinks (Splunk HEC, Sumo Logic, webhooks, files) take every published event; their
  // spools carry undelivered events across restarts.
  std::string sink_error;
  auto sinks = SinkBridge::open(single || role == "publish" ? config.document : core::ConfigDocument(), config.state.path,
                                sink_error);
  if (!sinks) {
    fmt::print(stderr, "run: sink configuration error: {}\n", sink_error);
    return 2;
  }
  metrics.sinks.store(sinks.get());
  // Events journaled after the last snapshots may not have reached the sinks before the
  // process died: hand them on again (receivers deduplicate by event id).
  for (const auto& json : journaled_events) sinks->publish_json(json);
  if (!journaled_events.empty()) {
    fmt::print(stderr, "run: {} journaled events handed to the sinks again\n", journaled_events.size());
  }
  std::atomic<bool> stopping{false};
  std::vector<std::thread> threads;  // in upstream-to-downstream order
  const Hop hop_kind = single ? Hop::inproc : Hop::wire;
  if (single || role == "ingest") {
    threads.emplace_back(intake_stage, std::move(flows), std::move(follow_records), std::ref(shards), hop_kind,
                         std::cref(config), std::ref(intake), std::cref(intake_state), std::ref(metrics),
                         std::cref(stopping));
  }
  for (std::size_t k = 0; k < engines.size(); ++k) {
    threads.emplace_back(scoring_stage, std::move(scorer_in[k]), std::move(scorer_out[k]),
                         ScoringShard{engines[k].get(), state_paths[k], &metrics.shards[k], k,
                                      k < journals.size() ? journals[k].get() : nullptr, queries[k].get()},
                         std::cref(config),
                         hop_kind, std::ref(metrics), std::cref(stopping));
  }
  if (single || role == "publish") {
    threads.emplace_back(publish_stage, std::move(events_in), std::ref(*publisher), std::ref(*sinks), hop_kind,
                         engines.size(), std::ref(metrics), std::cref(stopping));
  }
  // Built-in sources push into the intake over inproc, like any pushing peer.
  SourceOptions source_options = o.sources;
  if (source_options.http_access_key.empty()) {
    if (const char* key = std::getenv("FLOWLIER_HTTP_ACCESS_KEY")) source_options.http_access_key = key;
  }
  source_options.max_body_bytes = std::min<std::size_t>(source_options.max_body_bytes, config.decoder.max_document_bytes);
  // Followed files resume where they were read, beside the state they went into.
  if (single && !intake_state.empty()) source_options.follow_checkpoints = config.state.path + ".follow";
  source_options.decoder = config.decoder;
  if (config.input_format != "auto") source_options.format = parse_input_format(config.input_format);
  source_options.records_endpoint = kFollowRecordsHop;
  metrics.sources.rejected = &metrics.rejected;
  metrics.sources.reject_log = metrics.reject_log;
  if (!source_options.http_listen.empty() && source_options.http_access_key.empty()) {
    fmt::print(stderr, "run: warning: --http-listen without an access key accepts every request\n");
  }
  InputSources sources(context, kSourcesHop, std::move(source_options), metrics.sources);
  if (auto error = sources.start(); !error.empty()) {
    fmt::print(stderr, "run: {}\n", error);
    sources.stop();
    stopping.store(true);
    if (peer_exchange) peer_exchange->cancel();
    for (auto& t : threads) t.join();
    return 2;
  }
  metrics.ready.store(true);

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGHUP) {
    fmt::print(stderr, "run: SIGHUP: {}\n", reload_rules(*rule_book, o.config));
  }
  fmt::print(stderr, "run: {} received, draining\n", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  metrics.ready.store(false);
  sources.stop();
  stopping.store(true);
  // Upstream first: intake stops and sends the end markers; the scoring stages drain
  // and write their snapshots; publish sends what is left.
  for (auto& t : threads) t.join();
  // What the sinks could not deliver in time stays in their spools for the next start.
  sinks->finish(stderr, std::chrono::seconds(10));
  shards.clear();
  publisher.reset();
  server.stop();
  metrics.sinks.store(nullptr);
  metrics.zap = nullptr;
  if (zap) zap->stop();
  metrics.monitors.clear();
  for (auto& m : monitors) m->stop();
  context.close();
  std::uint64_t refused = 0;
  for (const auto& shard : metrics.shards) refused += shard.dropped_table_full.load();
  fmt::print(stderr,
             "run: stopped: {} records received, {} scored, {} late, {} rejected, {} events published; refused: {} "
             "observations of new entities ({}){}\n",
             metrics.records_received.load(), metrics.records_scored.load(), metrics.late_records.load(),
             std::accumulate(metrics.rejected.begin(), metrics.rejected.end(), std::uint64_t{0},
                             [](std::uint64_t sum, const auto& n) { return sum + n.load(); }),
             metrics.published_sequence.load(), refused, metrics.entity_limit_reason,
             engines.empty() || config.state.path.empty() ? "" : fmt::format(", state in {}", config.state.path));
  return 0;
}
}  // namespace

void add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run the live service: flows in over ZeroMQ, anomaly events out");
  cmd->footer(
      "Every [service] and [security] key of the config has an option here (but the rejects file's rotation, "
      "service.rejects_max_bytes and rejects_max_files); an option given on the command line overrides the config "
      "file. SIGHUP reloads the config's [[rules]].");
  cmd->add_option("-c,--config", options->config, "TOML config (the same file `replay` reads); defaults without it");
  cmd->add_option("--check-config", options->check_config, "Validate this config file (with these options) and exit");
  auto& s = options->service;
  auto& k = options->security;
  // Each option records that it was given, so it can override the config file.
  const auto track = [options](CLI::Option* option, const char* name) {
    option->each([options, name](const std::string&) { options->given.insert(name); });
    return option;
  };
  track(cmd->add_option("--role", s.role, "single (default), or one stage of a sharded deployment")
            ->check(CLI::IsMember({"single", "ingest", "score", "publish"})),
        "role");
  track(cmd->add_option("--scoring-threads", s.scoring_threads,
                        "single: parallel scoring engines, each owning a shard of the entities (0: one per core)")
            ->capture_default_str(),
        "scoring-threads");
  track(cmd->add_option("--idle-seconds", s.idle_seconds,
                        "After this long without records, event time advances with the wall clock (0: never)")
            ->capture_default_str(),
        "idle-seconds");
  track(cmd->add_option("--hwm", s.hwm, "High-water mark of every socket, in messages")->capture_default_str(),
        "hwm");
  track(cmd->add_option("--shards", s.shards, "ingest: the scorers' endpoints, in shard order")->delimiter(','),
        "shards");
  track(cmd->add_option("--listen", s.listen, "score/publish: endpoint to bind for the upstream stage"), "listen");
  track(cmd->add_option("--publish-to", s.publish_to, "score: the publisher's --listen endpoint"), "publish-to");
  track(cmd->add_option("--shard-index", s.shard_index, "score: this scorer's shard, 0-based"), "shard-index");
  track(cmd->add_option("--shard-count", s.shard_count, "score: number of scorers"), "shard-count");
  track(cmd->add_option("--rejects", s.rejects_file,
                        "Write every rejected live record (source, reason, raw input) as JSON Lines, rotated"),
        "rejects");
  cmd->add_option("--metrics", options->metrics, "host:port for /metrics, overriding endpoints.metrics");
  track(cmd->add_option("--curve-secret", k.curve_secret_key_file,
                        "CURVE secret key file (flowlier keygen): encrypts every tcp endpoint"),
        "curve-secret");
  track(cmd->add_option("--curve-allow", k.curve_allow_file,
                        "Client public keys admitted (one per line); required with --curve-secret"),
        "curve-allow");
  track(cmd->add_option("--curve-peer", k.curve_peer_file,
                        "ingest/score: public key of the server(s) connected to (one, or one per shard)"),
        "curve-peer");
  cmd->add_option("--follow", options->sources.follow,
                  "File or directory tree to follow as it grows (tail -F; rotation; .gz files read whole; files of "
                  "a tree read in event-time order); repeatable");
  cmd->add_flag("--stdin", options->sources.from_stdin, "Read flow log lines from standard input too");
  cmd->add_option("--http-listen", options->sources.http_listen,
                  "host:port for POSTed Firehose HTTP endpoint deliveries and CloudWatch Logs payloads");
  cmd->add_option("--http-access-key", options->sources.http_access_key,
                  "Required X-Amz-Firehose-Access-Key (default: env FLOWLIER_HTTP_ACCESS_KEY)");
  cmd->add_option("--http-max-connections", options->sources.http_max_connections,
                  "Connections served at once; one more is answered 503")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--http-header-timeout", options->sources.http_header_timeout_seconds,
                  "Seconds a connection has to send its request head")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_option("--http-body-timeout", options->sources.http_body_timeout_seconds,
                  "Seconds a request has to send its body after the head")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->callback([options] {
    const int rc = run_service(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace flowlier::app
