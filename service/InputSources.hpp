#pragma once
// The sources of `flowlier run` besides the flows-in socket: followed files and
// directories (--follow), standard input (--stdin) and an HTTP endpoint for Firehose
// HTTP endpoint deliveries and CloudWatch Logs subscription payloads (--http-listen).
// Each runs on its own thread. Standard input and HTTP PUSH their inputs (chunks of
// whole lines, or one HTTP body) over inproc to the intake's PULL socket, so each
// becomes one message decoded exactly as if a peer had pushed it. Followed files are
// decoded here instead, so that the records of all followed files can be merged by
// record time (pipeline/RecordMerge) before they go, as RecordWire batches, to the
// intake's inproc records socket. The access key is never logged.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "pipeline/InputFormat.hpp"
#include "pipeline/RejectReason.hpp"
#include "transport/HttpIngestServer.hpp"

namespace flowlier::service {

class LiveRejects;  // service/LiveRejects.hpp

struct SourceOptions {
  std::vector<std::string> follow;  // files and directories
  bool from_stdin = false;
  std::string http_listen;          // host:port, empty: no HTTP source
  std::string http_access_key;      // required X-Amz-Firehose-Access-Key; empty: none checked
  std::size_t max_chunk_bytes = 1 << 20;
  std::size_t max_body_bytes = 64 << 20;  // HTTP bodies, before and after gunzip
  // --follow read positions (FileFollower::checkpoints), saved beside the state after
  // every poll that read something and at stop, restored at start; empty: none.
  std::string follow_checkpoints;
  std::size_t http_max_connections = 64;
  double http_header_timeout_seconds = 5;
  double http_body_timeout_seconds = 30;
  pipeline::DecoderOptions decoder;             // to check an HTTP body, to decode followed files
  std::optional<pipeline::InputFormat> format;  // input.format; nullopt: detected per chunk
  // Where followed files' records go (RecordWire batches); empty: no --follow.
  std::string records_endpoint;
};

struct SourceMetrics {
  std::atomic<std::uint64_t> file_chunks{0};
  std::atomic<std::uint64_t> stdin_chunks{0};
  std::atomic<std::uint64_t> http_bodies{0};
  std::atomic<std::uint64_t> http_auth_failures{0};
  std::atomic<std::uint64_t> http_bad_requests{0};
  std::atomic<std::uint64_t> file_rotations{0};  // rotations and truncations
  std::atomic<std::uint64_t> gzip_files{0};
  std::atomic<std::uint64_t> file_errors{0};
  std::atomic<std::uint64_t> follow_tree_skipped{0};  // files and directories beyond the tree bounds (last poll)
  std::atomic<std::uint64_t> follow_forced{0};        // records handed on early: the merge was full
  std::atomic<std::uint64_t> follow_held{0};          // records waiting in the merge
  // Followed files are decoded in the source: their rejects count here (the intake's family).
  std::array<std::atomic<std::uint64_t>, pipeline::kRejectReasonCount>* rejected = nullptr;
  LiveRejects* reject_log = nullptr;  // run --rejects: every reject written there too
  // Set while the HTTP source serves: its refusals by reason (HttpIngestServer::refused).
  std::atomic<const transport::HttpIngestServer*> http_server{nullptr};
};

// True when `line` is an AWS flow log header (its first token is a field name).
bool is_aws_header(std::string_view line);

class InputSources {
 public:
  // `endpoint`: the inproc endpoint the intake PULL socket is bound to.
  InputSources(zmq::context_t& context, std::string endpoint, SourceOptions options, SourceMetrics& metrics);
  ~InputSources();
  InputSources(const InputSources&) = delete;
  InputSources& operator=(const InputSources&) = delete;

  bool empty() const;
  // Starts every configured source. Returns an empty string, else why not (the HTTP
  // address cannot be bound).
  std::string start();
  // Stops and joins them (what is mid-send when the intake has stopped is dropped).
  void stop();

 private:
  zmq::socket_t make_push();
  zmq::socket_t make_push(const std::string& endpoint, int high_water_mark = 0);  // 0: ZeroMQ's default
  // Sends one message; waits at the high-water mark until stop(), or (`last`) for a
  // bounded time after it, while the intake still drains what the sources handed on.
  bool forward(zmq::socket_t& push, std::string&& chunk, bool last = false);
  void follow_loop(zmq::socket_t push);
  void stdin_loop(zmq::socket_t push);
  transport::MetricsReply on_http(const transport::InboundRequest& request);
  std::optional<transport::MetricsReply> check_head(const transport::InboundRequest& request, bool complete);

  zmq::context_t& context_;
  std::string endpoint_;
  SourceOptions options_;
  SourceMetrics& metrics_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::mutex http_push_mutex_;  // the HTTP server's connection threads share the socket
  zmq::socket_t http_push_;
  std::unique_ptr<transport::HttpIngestServer> http_;
};

}  // namespace flowlier::service
