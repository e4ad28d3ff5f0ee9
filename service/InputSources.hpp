#pragma once
// The sources of `flowlier run` besides the flows-in socket: followed files and
// directories (--follow), standard input (--stdin) and an HTTP endpoint for Firehose
// HTTP endpoint deliveries and CloudWatch Logs subscription payloads (--http-listen).
// Each runs on its own thread and PUSHes its inputs (chunks of whole lines, or one
// HTTP body) over inproc to the intake's PULL socket, so each becomes one message
// decoded exactly as if a peer had pushed it. The access key is never logged.
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
#include "transport/HttpIngestServer.hpp"

namespace flowlier::service {

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
  pipeline::DecoderOptions decoder;       // to check an HTTP body before it is accepted
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
  bool forward(zmq::socket_t& push, std::string&& chunk);
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
