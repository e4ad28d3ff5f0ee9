#include "pipeline/FileIngest.hpp"

#include <fmt/format.h>

#include "pipeline/InputFiles.hpp"
#include "pipeline/LineReader.hpp"

namespace flowlier::pipeline {

namespace {
// Counts what passes and hands rejects to the log with the input's name.
class CountingSink final : public DecodeSink {
 public:
  CountingSink(DecodeSink& downstream, IngestStats& stats, RejectLog& rejects, const std::string& source)
      : downstream_(downstream), stats_(stats), rejects_(rejects), source_(source) {}

  void on_record(const FlowRecord& record) override {
    ++stats_.records;
    ++by_format_[static_cast<std::size_t>(record.format)];
    if (record.status == LogStatus::nodata) ++stats_.nodata;
    if (record.status == LogStatus::skipdata) ++stats_.skipdata;
    downstream_.on_record(record);
  }
  void on_reject(const Reject& reject) override {
    ++stats_.rejected[static_cast<std::size_t>(reject.reason)];
    rejects_.report(source_, reject);
    downstream_.on_reject(reject);
  }
  ~CountingSink() override {
    for (std::size_t i = 0; i < by_format_.size(); ++i) {
      if (by_format_[i]) stats_.records_by_format[to_string(static_cast<Format>(i))] += by_format_[i];
    }
  }

 private:
  DecodeSink& downstream_;
  IngestStats& stats_;
  RejectLog& rejects_;
  const std::string& source_;
  std::array<std::uint64_t, 5> by_format_{};
};

bool is_document_format(InputFormat f) { return f != InputFormat::aws_text && f != InputFormat::gcp; }
}  // namespace

FileIngest::FileIngest(IngestOptions options, RejectLog& rejects, IngestStats& stats)
    : options_(std::move(options)), rejects_(rejects), stats_(stats) {}

void FileIngest::read(const std::vector<std::string>& paths, DecodeSink& downstream, const ErrorHandler& on_error) {
  const auto inputs = expand_inputs(paths);
  for (const auto& message : inputs.errors) {
    ++stats_.input_errors;
    on_error(message);
  }
  for (const auto& file : inputs.files) read_one(file, downstream, on_error);
}

void FileIngest::read_one(const std::string& path, DecodeSink& downstream, const ErrorHandler& on_error) {
  const std::string name = path == "-" ? "<stdin>" : path;
  ++stats_.inputs;
  const auto source_index = static_cast<std::uint32_t>(sources_.size());
  sources_.push_back(name);
  CountingSink sink(downstream, stats_, rejects_, sources_.back());

  // Line-oriented formats bound each line; document formats bound the whole document.
  std::size_t limit = options_.decoder.max_line_bytes;
  if (options_.format && is_document_format(*options_.format)) limit = options_.decoder.max_document_bytes;
  LineReader reader(limit, [&](std::uint64_t line, std::string_view prefix, std::size_t length) {
    const auto message = fmt::format("line of {} bytes exceeds the limit of {} bytes", length, limit);
    sink.on_reject(Reject{RejectReason::line_too_long, line, prefix, message});
  });
  if (auto error = reader.open(path); !error.empty()) {
    ++stats_.input_errors;
    on_error(error);
    return;
  }
  const auto head = reader.peek(64 << 10);
  if (head.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    ++stats_.input_errors;
    on_error(reader.error().empty() ? fmt::format("{}: input is empty", name) : reader.error());
    stats_.bytes += reader.bytes_read();
    return;
  }
  auto format = options_.format ? options_.format : detect_input_format(head);
  if (!format) {
    ++stats_.input_errors;
    on_error(fmt::format("{}: cannot tell the format from its first bytes; name it with --format "
                         "(aws, aws-cloudwatch, aws-firehose, gcp, azure-nsg, azure-vnet)",
                         name));
    return;
  }
  if (is_document_format(*format)) limit = options_.decoder.max_document_bytes;
  reader.set_max_line_bytes(limit);
  auto decoder = make_decoder(*format, options_.decoder);
  decoder->set_source_index(source_index);
  std::string_view chunk;
  std::uint64_t first_line = 0;
  while (reader.next(chunk, first_line)) decoder->feed(chunk, first_line, sink);
  decoder->finish(sink);
  stats_.bytes += reader.bytes_read();
  if (!reader.error().empty()) {
    ++stats_.input_errors;
    on_error(reader.error());
  }
}

}  // namespace flowlier::pipeline
