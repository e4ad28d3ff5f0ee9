#include "service/InputSources.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "service/LiveRejects.hpp"
#include "pipeline/DecodeSink.hpp"
#include "pipeline/FileIngest.hpp"
#include "pipeline/Gzip.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/RecordMerge.hpp"
#include "pipeline/RejectLog.hpp"
#include "pipeline/formats/AwsFields.hpp"
#include "transport/FileFollower.hpp"
#include "transport/LineChunker.hpp"

namespace flowlier::service {

namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(200);
// Followed records wait in the merge up to this many (in RecordWire form, about 290
// bytes each); records go to the intake in batches of kRecordsPerBatch, a few at a time.
constexpr std::size_t kMaxHeldRecords = 1 << 20;
constexpr std::size_t kRecordsPerBatch = 4096;
constexpr int kBatchesInFlight = 4;

// Firehose expects {"requestId": the request's id, "timestamp": ms} on success and the
// same with "errorMessage" on failure.
transport::MetricsReply firehose_reply(int status, const std::string& request_id, std::string_view error = {}) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  nlohmann::json body{{"requestId", request_id}, {"timestamp", ms}};
  if (!error.empty()) body["errorMessage"] = error;
  return {status, "application/json", body.dump()};
}

// Decodes a body as the intake will, only to find out whether it is whole: JSON that
// does not parse, base64 or gzip that does not decode, or no known format at all make
// the delivery fail (Firehose retries it, then keeps it in its own error bucket).
// Records with a bad field are no reason to refuse the rest: the intake counts them.
class BodyCheck final : public pipeline::DecodeSink {
 public:
  void on_record(const pipeline::FlowRecord&) override {}
  void on_reject(const pipeline::Reject& reject) override {
    if (!error.empty()) return;
    if (reject.reason == pipeline::RejectReason::invalid_json || reject.reason == pipeline::RejectReason::bad_encoding) {
      error = fmt::format("{} (record {}): {}", pipeline::to_string(reject.reason), reject.line,
                          reject.message.substr(0, 200));
    }
  }
  std::string error;
};

std::string body_error(std::string_view body, const pipeline::DecoderOptions& options) {
  const auto format = pipeline::detect_input_format(body.substr(0, 4096));
  if (!format) return "not a Firehose delivery, a CloudWatch Logs payload or flow log text";
  auto decoder = pipeline::make_decoder(*format, options);
  if (!decoder) return "unsupported format";
  BodyCheck check;
  decoder->feed(body, 1, check);
  decoder->finish(check);
  return check.error;
}

// Decodes the chunks of followed files into the merge, each under its file's source
// number; rejects are counted where the intake counts its own.
class FollowDecode final : public pipeline::DecodeSink {
 public:
  FollowDecode(pipeline::RecordMerge& merge, SourceMetrics& metrics) : merge_(merge), metrics_(metrics) {}
  void decode(std::uint64_t source, std::string_view chunk, const std::optional<pipeline::InputFormat>& fixed,
              const pipeline::DecoderOptions& options, std::string path = {}) {
    source_ = source;
    path_ = std::move(path);
    const auto format = fixed ? fixed : pipeline::detect_input_format(chunk.substr(0, 4096));
    if (!format) {
      count(pipeline::RejectReason::unknown_format);
      if (metrics_.reject_log) metrics_.reject_log->report_unknown_format(path_, chunk);
      return;
    }
    if (auto decoder = pipeline::make_decoder(*format, options)) {
      decoder->feed(chunk, 1, *this);
      decoder->finish(*this);
    }
  }
  void on_record(const pipeline::FlowRecord& record) override { merge_.add(source_, record); }
  void on_reject(const pipeline::Reject& reject) override {
    count(reject.reason);
    if (metrics_.reject_log) metrics_.reject_log->report(path_, reject);
  }

 private:
  void count(pipeline::RejectReason reason) {
    if (metrics_.rejected != nullptr) (*metrics_.rejected)[static_cast<std::size_t>(reason)].fetch_add(1);
  }
  pipeline::RecordMerge& merge_;
  SourceMetrics& metrics_;
  std::uint64_t source_ = 0;
  std::string path_;  // of source_, for the rejects file
};

// Compares without an early exit, so the time taken says nothing about the key.
bool same_key(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}
}  // namespace

bool is_aws_header(std::string_view line) {
  std::string_view first = line.substr(0, line.find(' '));
  if (first.starts_with("${") && first.ends_with("}")) first = first.substr(2, first.size() - 3);
  if (first.empty()) return false;
  for (std::size_t i = 1; i < pipeline::formats::kAwsFieldCount; ++i) {
    if (pipeline::formats::aws_field_name(static_cast<pipeline::formats::AwsField>(i)) == first) return true;
  }
  return false;
}

InputSources::InputSources(zmq::context_t& context, std::string endpoint, SourceOptions options, SourceMetrics& metrics)
    : context_(context), endpoint_(std::move(endpoint)), options_(std::move(options)), metrics_(metrics) {}

InputSources::~InputSources() { stop(); }

bool InputSources::empty() const {
  return options_.follow.empty() && !options_.from_stdin && options_.http_listen.empty();
}

zmq::socket_t InputSources::make_push() { return make_push(endpoint_); }

zmq::socket_t InputSources::make_push(const std::string& endpoint, int high_water_mark) {
  zmq::socket_t push(context_, zmq::socket_type::push);
  if (high_water_mark > 0) push.set(zmq::sockopt::sndhwm, high_water_mark);
  push.set(zmq::sockopt::linger, 0);
  // Short send timeouts so a source blocked at the high-water mark still notices stop().
  push.set(zmq::sockopt::sndtimeo, static_cast<int>(kPollInterval.count()));
  push.connect(endpoint);
  return push;
}

bool InputSources::forward(zmq::socket_t& push, std::string&& chunk, bool last) {
  zmq::message_t message(chunk.data(), chunk.size());
  for (int tries = 0; last ? tries < 10 : !stopping_.load(); ++tries) {
    try {
      if (push.send(message, zmq::send_flags::none)) return true;  // else timed out at the HWM: wait on
    } catch (const zmq::error_t&) {
      return false;  // context terminated
    }
  }
  return false;
}

std::string InputSources::start() {
  if (!options_.http_listen.empty()) {
    http_push_ = make_push();
    transport::HttpIngestLimits limits;
    limits.max_body_bytes = options_.max_body_bytes;
    limits.max_connections = options_.http_max_connections;
    limits.header_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(options_.http_header_timeout_seconds * 1000));
    limits.body_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(options_.http_body_timeout_seconds * 1000));
    http_ = std::make_unique<transport::HttpIngestServer>(
        [this](const transport::InboundRequest& request) { return on_http(request); }, limits,
        [this](const transport::InboundRequest& request, bool complete) { return check_head(request, complete); });
    if (auto error = http_->start(options_.http_listen); !error.empty()) return "--http-listen: " + error;
    metrics_.http_server.store(http_.get());
  }
  if (!options_.follow.empty()) {
    // A few batches in flight: the merge's records wait in the merge (compact, counted),
    // not in a queue of ZeroMQ messages.
    threads_.emplace_back(
        &InputSources::follow_loop, this,
        make_push(options_.records_endpoint.empty() ? endpoint_ : options_.records_endpoint, kBatchesInFlight));
  }
  if (options_.from_stdin) threads_.emplace_back(&InputSources::stdin_loop, this, make_push());
  return {};
}

void InputSources::stop() {
  stopping_ = true;
  if (http_) http_->stop();
  metrics_.http_server.store(nullptr);
  for (auto& t : threads_) t.join();
  threads_.clear();
  http_.reset();
  http_push_.close();
}

void InputSources::follow_loop(zmq::socket_t push) {
  // Files are read oldest first by the time replay would give them (FileIngest::start_time).
  pipeline::RejectLog quiet(nullptr, 0);
  pipeline::IngestStats probe_stats;
  pipeline::FileIngest probe({options_.format, options_.decoder, true}, quiet, probe_stats);
  transport::FileFollower::Options options;
  options.max_chunk_bytes = options_.max_chunk_bytes;
  options.is_header = is_aws_header;
  options.start_time = [&probe](const std::string& file) { return probe.start_time(file); };
  transport::FileFollower follower(options_.follow, options);
  const std::string& path = options_.follow_checkpoints;
  std::string saved;
  if (!path.empty()) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    if (in && !follower.restore_checkpoints(text.str())) {
      fmt::print(stderr, "run: {}: malformed follow checkpoints, ignored (files are read from their start)\n", path);
    }
    saved = text.str();
  }
  // Written after the records were handed to the intake (or to the merge, which hands
  // on everything it holds at stop): a kill -9 loses at most what the engines had not
  // snapshotted yet, and never reads a line twice.
  const auto save = [&] {
    if (path.empty()) return;
    std::string now = follower.checkpoints();
    if (now == saved) return;
    const std::string temp = path + ".tmp";
    {
      std::ofstream out(temp, std::ios::trunc);
      out << now;
      if (!out.flush()) return;
    }
    if (std::rename(temp.c_str(), path.c_str()) == 0) saved = std::move(now);
  };
  pipeline::RecordMerge merge(kMaxHeldRecords);
  FollowDecode decode(merge, metrics_);
  std::string batch;
  std::size_t in_batch = 0;
  const auto send = [&](bool last) {
    if (in_batch == 0) return;
    if (forward(push, std::move(batch), last)) metrics_.file_chunks.fetch_add(1, std::memory_order_relaxed);
    batch.clear();
    in_batch = 0;
  };
  // Everything older than what a file not yet read to its end may still hold goes on,
  // in time order; at stop, everything.
  const auto release = [&](bool last) {
    std::int64_t before = pipeline::RecordMerge::kAll;
    if (!last) {
      for (const auto& b : follower.behind()) before = std::min(before, merge.newest(b.source).value_or(b.start));
    }
    merge.release(before, [&](std::string_view wire) {
      batch.append(wire);
      if (++in_batch >= kRecordsPerBatch) send(last);
    });
    send(last);
  };
  const auto emit = [&](std::uint64_t source, std::string&& chunk) {
    decode.decode(source, chunk, options_.format, options_.decoder,
                  metrics_.reject_log ? follower.path_of(source) : std::string());
  };
  bool warned = false;
  while (!stopping_.load()) {
    follower.poll(emit);
    release(false);
    save();
    const auto& c = follower.counters();
    metrics_.file_rotations.store(c.rotations + c.truncations);
    metrics_.gzip_files.store(c.gzip_files);
    metrics_.file_errors.store(c.errors);
    metrics_.follow_tree_skipped.store(c.tree_skipped);
    metrics_.follow_forced.store(merge.forced());
    metrics_.follow_held.store(merge.held());
    if (c.tree_skipped > 0 && !warned) {
      fmt::print(stderr, "run: --follow: {} files or directories beyond the tree bounds are not followed\n",
                 c.tree_skipped);
    }
    warned = c.tree_skipped > 0;
    if (!follower.budget_spent()) std::this_thread::sleep_for(kPollInterval);  // else a backlog is being read
  }
  release(true);
  save();
}

void InputSources::stdin_loop(zmq::socket_t push) {
  transport::LineChunker chunker(options_.max_chunk_bytes, is_aws_header);
  const auto emit = [&](std::string&& chunk) {
    if (forward(push, std::move(chunk))) metrics_.stdin_chunks.fetch_add(1, std::memory_order_relaxed);
  };
  char buffer[1 << 16];
  while (!stopping_.load()) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(kPollInterval.count()));
    if (ready == 0) {
      chunker.flush(emit);  // a quiet pipe: pass on the lines that are whole
      continue;
    }
    if (ready < 0 && errno == EINTR) continue;
    const ssize_t n = ready < 0 ? -1 : ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of input (or a closed descriptor): this source ends, not the service
    chunker.feed(std::string_view(buffer, static_cast<std::size_t>(n)), emit);
  }
  chunker.finish(emit);
  fmt::print(stderr, "run: stdin: end of input\n");
}

// The access key is checked as soon as its header line has arrived (and its absence
// once the head is whole), before the rest of the request is read.
std::optional<transport::MetricsReply> InputSources::check_head(const transport::InboundRequest& request,
                                                                bool complete) {
  if (options_.http_access_key.empty() || request.method != "POST") return std::nullopt;
  const auto key = request.headers.find("x-amz-firehose-access-key");
  if (key == request.headers.end() && !complete) return std::nullopt;
  if (key != request.headers.end() && same_key(key->second, options_.http_access_key)) return std::nullopt;
  metrics_.http_auth_failures.fetch_add(1);
  return firehose_reply(401, std::string(request.header("x-amz-firehose-request-id")), "wrong or missing access key");
}

transport::MetricsReply InputSources::on_http(const transport::InboundRequest& request) {
  std::string request_id(request.header("x-amz-firehose-request-id"));
  if (request.method != "POST") return firehose_reply(405, request_id, "POST only");
  // The key was checked by check_head() before the body was read.
  std::string inflated;
  std::string_view body = request.body;
  const auto encoding = request.header("content-encoding");
  if (encoding == "gzip" || pipeline::looks_gzipped(body)) {
    if (auto error = pipeline::gunzip(body, inflated, options_.max_body_bytes); !error.empty()) {
      metrics_.http_bad_requests.fetch_add(1);
      return firehose_reply(400, request_id, "gzip: " + error);
    }
    body = inflated;
  } else if (!encoding.empty() && encoding != "identity") {
    metrics_.http_bad_requests.fetch_add(1);
    return firehose_reply(400, request_id, "unsupported Content-Encoding");
  }
  // A Firehose delivery names its request in the body too; the reply must echo it.
  if (request_id.empty() && body.find("\"requestId\"") != std::string_view::npos) {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_object() && json.contains("requestId") && json["requestId"].is_string()) {
      request_id = json["requestId"].get<std::string>();
    }
  }
  if (auto error = body_error(body, options_.decoder); !error.empty()) {
    metrics_.http_bad_requests.fetch_add(1);
    return firehose_reply(400, request_id, error);
  }
  std::lock_guard lock(http_push_mutex_);
  if (!forward(http_push_, std::string(body))) return firehose_reply(503, request_id, "shutting down");
  metrics_.http_bodies.fetch_add(1, std::memory_order_relaxed);
  return firehose_reply(200, request_id);
}

}  // namespace flowlier::service
