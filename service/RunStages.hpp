#pragma once
// The stages of `flowlier run`, each a function run on its own thread, joined by
// ZeroMQ sockets (inproc inside one process, tcp between the processes of a sharded
// deployment):
//
//   intake   decodes each message from the flows-in PULL, tracks the watermark, routes
//            each record once into observations, sends each to the scoring shard of
//            its entity, and broadcasts
//            the close points to every shard in stream order, so each shard closes
//            windows exactly where one engine would. Idle watermark timeout.
//   scoring  one Engine per shard: ingest, advance, state snapshots.
//   publish  each event on the PUB socket and to the sinks.
//
// Shutdown in one process: an end marker travels down the inproc chain, so every
// stage drains what it has before the state is written. Across processes each stage
// stops on its own signal once its input is drained.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "service/EntityApi.hpp"
#include "service/EpisodeJournal.hpp"
#include "service/RunMetrics.hpp"
#include "service/SinkBridge.hpp"
#include "pipeline/Config.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/IntakeRouter.hpp"
#include "transport/ZmqPublisher.hpp"

namespace flowlier::service {

// How a stage reaches the next: inproc hands heap objects over by pointer (they never
// leave the process, so observations need no second encoding); wire sends bytes to
// another process (RecordWire observations, event JSON), whose frames are checked
// before use.
enum class Hop { inproc, wire };

// `shards`: one PUSH socket per scoring engine (or process), in shard order. The intake
// routes records to observations (`router`, restored with its watermark seeded from
// the engines' in process, so a restart continues where the snapshots stopped; its
// state is written to `state_path`), so scorers never route.
// `follow_records`: the followed files' records, decoded and merged by time by the
// --follow source (RecordWire batches over inproc); taken like decoded messages.
void intake_stage(zmq::socket_t flows, zmq::socket_t follow_records, std::vector<zmq::socket_t>& shards, Hop hop,
                  const pipeline::Config& config, pipeline::IntakeRouter& router, const std::string& state_path,
                  RunMetrics& metrics, const std::atomic<bool>& stopping);

struct ScoringShard {
  pipeline::Engine* engine = nullptr;
  std::string state_path;  // empty: no snapshots
  ShardGauges* gauges = nullptr;
  std::size_t index = 0;  // in RunMetrics::shards
  // In process with a state path: every event is journaled (fdatasync'd) before it is
  // forwarded, and a snapshot waits until the publish stage has handed every forwarded
  // event to PUB and the sinks, then empties the journal. Null: no journal.
  EpisodeJournal* journal = nullptr;
  EngineQueries* queries = nullptr;  // the entity API's mailbox (service/EntityApi), answered between messages
};

void scoring_stage(zmq::socket_t in, zmq::socket_t out, ScoringShard shard, const pipeline::Config& config, Hop hop,
                   RunMetrics& metrics, const std::atomic<bool>& stopping);

// `upstream`: the scoring stages feeding it in process (it stops after their end markers).
void publish_stage(zmq::socket_t in, transport::ZmqPublisher& publisher, SinkBridge& sinks, Hop hop,
                   std::size_t upstream, RunMetrics& metrics, const std::atomic<bool>& stopping);

}  // namespace flowlier::service
