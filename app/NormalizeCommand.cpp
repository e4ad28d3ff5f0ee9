// flowlier normalize: any supported flow log format in, JSON Lines FlowRecords out;
// with --check, only decode and validate (the summary is the output).
#include <chrono>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "app/Commands.hpp"
#include "app/IngestSummary.hpp"
#include "pipeline/FileIngest.hpp"
#include "pipeline/RecordJson.hpp"

namespace flowlier::app {

namespace {
using namespace flowlier::pipeline;

struct NormalizeOptions {
  std::vector<std::string> paths;
  std::string format;
  std::string aws_format;
  std::string out;
  std::string rejects;
  std::size_t max_line_bytes = 1 << 20;
  bool quiet = false;
  bool check = false;
};

// --check: records are counted upstream (FileIngest's books); nothing is written.
class DiscardSink final : public DecodeSink {
 public:
  void on_record(const FlowRecord&) override {}
  void on_reject(const Reject&) override {}
};

// Writes records as JSON Lines through one large buffer.
class JsonLinesSink final : public DecodeSink {
 public:
  JsonLinesSink(std::FILE* out, const FileIngest& ingest) : out_(out), ingest_(ingest) { buffer_.reserve(2 << 20); }
  ~JsonLinesSink() override { flush(); }
  void on_record(const FlowRecord& record) override {
    append_record_json(buffer_, record, ingest_.sources()[record.source_index]);
    if (buffer_.size() >= (1 << 20)) flush();
  }
  void on_reject(const Reject&) override {}
  void flush() {
    if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size()) write_failed_ = true;
    buffer_.clear();
  }
  bool write_failed() const { return write_failed_; }

 private:
  std::FILE* out_;
  const FileIngest& ingest_;
  std::string buffer_;
  bool write_failed_ = false;
};

int run_normalize(const NormalizeOptions& o) {
  IngestOptions ingest_options;
  if (!o.format.empty() && o.format != "auto") ingest_options.format = parse_input_format(o.format);
  ingest_options.decoder.aws_fields = o.aws_format;
  ingest_options.decoder.max_line_bytes = o.max_line_bytes;

  std::FILE* out = stdout;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owned(nullptr, &std::fclose);
  if (!o.check && !o.out.empty() && o.out != "-") {
    owned.reset(std::fopen(o.out.c_str(), "w"));
    if (!owned) {
      fmt::print(stderr, "normalize: cannot write {}: {}\n", o.out, std::strerror(errno));
      return 2;
    }
    out = owned.get();
  }
  IngestStats stats;
  RejectLog rejects(stderr, o.quiet ? 0 : 10);
  if (!o.rejects.empty()) {
    if (auto error = rejects.open_rejects_file(o.rejects); !error.empty()) {
      fmt::print(stderr, "normalize: {}\n", error);
      return 2;
    }
  }
  FileIngest ingest(ingest_options, rejects, stats);
  const auto started = std::chrono::steady_clock::now();
  bool write_failed = false;
  const auto on_error = [](const std::string& message) { fmt::print(stderr, "normalize: error: {}\n", message); };
  if (o.check) {
    DiscardSink sink;
    ingest.read(o.paths, sink, on_error);
  } else {
    JsonLinesSink sink(out, ingest);
    ingest.read(o.paths, sink, on_error);
    sink.flush();
    write_failed = sink.write_failed();
  }
  if (std::fflush(out) != 0 || write_failed) {
    fmt::print(stderr, "normalize: error: writing the output failed: {}\n", std::strerror(errno));
    return 2;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  print_ingest_summary(stderr, "normalize", stats, seconds);
  // --check answers like a linter: 2 when it could not read everything, 1 when it read
  // everything and found rejects, 0 when the inputs are clean.
  if (o.check) return stats.input_errors > 0 ? 2 : stats.total_rejected() > 0 ? 1 : 0;
  return stats.input_errors > 0 ? 1 : 0;
}
}  // namespace

void add_normalize_command(CLI::App& app) {
  auto options = std::make_shared<NormalizeOptions>();
  auto* cmd = app.add_subcommand("normalize", "Decode flow logs of any supported format into normalized JSON Lines");
  cmd->add_option("paths", options->paths, "Files, .gz files, directories (walked recursively) or - for stdin")
      ->required();
  cmd->add_option("--format", options->format,
                  "Input format: auto (default), aws, aws-cloudwatch, aws-firehose, gcp, azure-nsg, azure-vnet")
      ->check([](const std::string& v) {
        return v == "auto" || parse_input_format(v) ? std::string() : "unknown format '" + v + "'";
      });
  cmd->add_option("--aws-format", options->aws_format,
                  "AWS field list for lines without a header, e.g. '${version} ${vpc-id} ...' (default: the v2 format)");
  auto* out = cmd->add_option("-o,--out", options->out, "Write records here instead of stdout");
  cmd->add_flag("--check", options->check,
                "Only read, decode and validate: print the summary and write no records. Exit status 0 when "
                "clean, 1 when records were rejected, 2 when an input could not be read in full")
      ->excludes(out);
  cmd->add_option("--rejects", options->rejects, "Write every rejected line or record, with its reason, as JSON Lines");
  cmd->add_option("--max-line-bytes", options->max_line_bytes, "Reject text lines longer than this")
      ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 30));
  cmd->add_flag("-q,--quiet", options->quiet, "Do not print individual rejects, only the summary");
  cmd->callback([options] {
    const int rc = run_normalize(*options);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace flowlier::app
