#include "pipeline/FileIngest.hpp"

#include <algorithm>
#include <limits>
#include <queue>

#include <fmt/format.h>

#include "pipeline/InputFiles.hpp"
#include "pipeline/InputTime.hpp"
#include "pipeline/LineReader.hpp"
#include "pipeline/RecordMerge.hpp"

namespace flowlier::pipeline {

namespace {
// Counts what passes and hands rejects to the log with the input's name.
class CountingSink final : public DecodeSink {
 public:
  CountingSink(DecodeSink& downstream, IngestStats& stats, RejectLog& rejects, std::string source)
      : downstream_(downstream), stats_(stats), rejects_(rejects), source_(std::move(source)) {}

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
  std::string source_;
  std::array<std::uint64_t, 5> by_format_{};
};

bool is_document_format(InputFormat f) { return f != InputFormat::aws_text && f != InputFormat::gcp; }

// Keeps decoded records of one input until the merge takes them, in the input's own
// order (a delivered file's small disorder stays as it was, whatever else is open, so
// the order never depends on which other inputs a run holds); rejects pass through.
class BufferSink final : public DecodeSink {
 public:
  explicit BufferSink(DecodeSink& downstream) : downstream_(downstream) {}
  void on_record(const FlowRecord& record) override {
    const std::int64_t t = record_time(record);
    // Alone and before every input not yet open: nothing to merge with, pass it on.
    if (direct != nullptr && t < direct_before) {
      direct->on_record(record);
      return;
    }
    records.push_back(record);
    times.push_back(t);
  }
  void on_reject(const Reject& reject) override { downstream_.on_reject(reject); }

  void clear() {
    records.clear();
    times.clear();
    next = 0;
  }
  bool exhausted() const { return next >= records.size(); }
  std::int64_t head_time() const { return times[next]; }
  const FlowRecord& take() { return records[next++]; }

  std::vector<FlowRecord> records;
  std::vector<std::int64_t> times;
  std::size_t next = 0;
  DecodeSink* direct = nullptr;  // set while this is the only open input and holds nothing
  std::int64_t direct_before = 0;

 private:
  DecodeSink& downstream_;
};

// Remembers the earliest record time; ignores rejects (the real read reports them).
class FirstTimeSink final : public DecodeSink {
 public:
  void on_record(const FlowRecord& record) override {
    const std::int64_t t = record_time(record);
    if (!earliest || t < *earliest) earliest = t;
  }
  void on_reject(const Reject&) override {}
  std::optional<std::int64_t> earliest;
};
}  // namespace

struct FileIngest::OpenInput {
  std::string name;
  std::unique_ptr<DecodeSink> counting;  // null when probing
  DecodeSink* sink = nullptr;            // where the decoder writes
  std::unique_ptr<LineReader> reader;
  std::unique_ptr<Decoder> decoder;
  std::size_t limit = 0;  // bytes per line (text formats) or per document
  bool finished = false;

  // Decodes the next chunk, or finishes the decoder at the end of the input. Returns
  // false once the input is finished.
  bool step() {
    if (finished) return false;
    std::string_view chunk;
    std::uint64_t first_line = 0;
    if (reader->next(chunk, first_line)) {
      decoder->feed(chunk, first_line, *sink);
    } else {
      decoder->finish(*sink);
      finished = true;
    }
    return true;
  }
};

FileIngest::FileIngest(IngestOptions options, RejectLog& rejects, IngestStats& stats)
    : options_(std::move(options)), rejects_(rejects), stats_(stats) {}

FileIngest::~FileIngest() = default;

void FileIngest::read(const std::vector<std::string>& paths, DecodeSink& downstream, const ErrorHandler& on_error) {
  const auto inputs = expand_inputs(paths);
  for (const auto& message : inputs.errors) {
    ++stats_.input_errors;
    on_error(message);
  }
  if (options_.time_order && inputs.files.size() > 1) {
    read_merged(inputs.files, downstream, on_error);
    return;
  }
  for (const auto& file : inputs.files) read_one(file, downstream, on_error);
}

std::unique_ptr<FileIngest::OpenInput> FileIngest::open_input(const std::string& path, DecodeSink& target,
                                                              const ErrorHandler& on_error, bool count) {
  auto in = std::make_unique<OpenInput>();
  in->name = path == "-" ? "<stdin>" : path;
  const auto fail = [&](const std::string& message) {
    if (!count) return;
    ++stats_.input_errors;
    on_error(message);
  };
  if (count) {
    ++stats_.inputs;
    in->counting = std::make_unique<CountingSink>(target, stats_, rejects_, in->name);
    in->sink = in->counting.get();
  } else {
    in->sink = &target;
  }
  // Line-oriented formats bound each line; document formats bound the whole document.
  std::size_t& limit = in->limit;
  limit = options_.decoder.max_line_bytes;
  if (options_.format && is_document_format(*options_.format)) limit = options_.decoder.max_document_bytes;
  OpenInput* self = in.get();
  in->reader = std::make_unique<LineReader>(limit, [self](std::uint64_t line, std::string_view prefix,
                                                          std::size_t length) {
    const auto message = fmt::format("line of {} bytes exceeds the limit of {} bytes", length, self->limit);
    self->sink->on_reject(Reject{RejectReason::line_too_long, line, prefix, message});
  });
  LineReader& reader = *in->reader;
  if (auto error = reader.open(path); !error.empty()) {
    fail(error);
    return nullptr;
  }
  const auto head = reader.peek(64 << 10);
  if (head.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    fail(reader.error().empty() ? fmt::format("{}: input is empty", in->name) : reader.error());
    if (count) stats_.bytes += reader.bytes_read();
    return nullptr;
  }
  auto format = options_.format ? options_.format : detect_input_format(head);
  if (!format) {
    fail(fmt::format("{}: cannot tell the format from its first bytes; name it with --format "
                     "(aws, aws-cloudwatch, aws-firehose, gcp, azure-nsg, azure-vnet)",
                     in->name));
    return nullptr;
  }
  if (is_document_format(*format)) limit = options_.decoder.max_document_bytes;
  reader.set_max_line_bytes(limit);
  in->decoder = make_decoder(*format, options_.decoder);
  if (count) {
    in->decoder->set_source_index(static_cast<std::uint32_t>(sources_.size()));
    sources_.push_back(in->name);
  }
  return in;
}

void FileIngest::read_one(const std::string& path, DecodeSink& downstream, const ErrorHandler& on_error) {
  auto in = open_input(path, downstream, on_error, true);
  if (!in) return;
  while (in->step()) {
  }
  in->counting.reset();  // books the per-format counts
  stats_.bytes += in->reader->bytes_read();
  if (!in->reader->error().empty()) {
    ++stats_.input_errors;
    on_error(in->reader->error());
  }
}

std::optional<std::int64_t> FileIngest::start_time(const std::string& path) {
  if (auto t = path_time(path)) return *t * 1'000'000'000;
  return first_record_time(path);
}

std::optional<std::int64_t> FileIngest::first_record_time(const std::string& path) {
  FirstTimeSink first;
  auto in = open_input(path, first, [](const std::string&) {}, false);
  if (!in) return std::nullopt;
  // The first chunk of lines, or the whole document.
  while (!first.earliest && in->step()) {
  }
  return first.earliest;
}

void FileIngest::read_merged(const std::vector<std::string>& files, DecodeSink& downstream,
                             const ErrorHandler& on_error) {
  constexpr std::int64_t kFirst = std::numeric_limits<std::int64_t>::min();
  struct Pending {
    std::int64_t key;  // ns; kFirst: open at once (stdin, unreadable, or no record time)
    std::size_t order;
  };
  std::vector<Pending> pending;
  pending.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto key = files[i] == "-" ? std::nullopt : start_time(files[i]);
    pending.push_back({key.value_or(kFirst), i});
  }
  std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) { return a.key < b.key; });

  struct Active {
    std::unique_ptr<BufferSink> buffer;
    std::unique_ptr<OpenInput> input;
  };
  std::vector<Active> active;
  using Head = std::pair<std::int64_t, std::size_t>;  // (record time, active index)
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;

  // Buffers of finished inputs, for the next ones: a fresh buffer grows to a chunk's
  // records (680 bytes each) through reallocations and page faults, every file again.
  std::vector<std::unique_ptr<BufferSink>> spare;
  std::size_t open_count = 0;  // inputs with records in hand or still to decode
  std::size_t next_pending = 0;
  // A fully decoded input: book it and free its reader and decoder (a JSON document's
  // parser, the read buffer) at once; only its records wait for the merge.
  const auto retire = [&](Active& a) {
    a.input->counting.reset();
    stats_.bytes += a.input->reader->bytes_read();
    if (!a.input->reader->error().empty()) {
      ++stats_.input_errors;
      on_error(a.input->reader->error());
    }
    a.input.reset();
  };
  // Decodes until the input has records in hand or is finished.
  const auto refill = [&](std::size_t index) {
    Active& a = active[index];
    a.buffer->clear();
    if (a.input) {
      // The only open input streams straight through up to the next input's time.
      a.buffer->direct = open_count == 1 ? &downstream : nullptr;
      a.buffer->direct_before =
          next_pending < pending.size() ? pending[next_pending].key : std::numeric_limits<std::int64_t>::max();
      while (a.buffer->records.empty() && a.input->step()) {
      }
      a.buffer->direct = nullptr;
      if (a.input->finished) retire(a);
    }
    if (a.buffer->records.empty()) {
      spare.push_back(std::move(a.buffer));
      --open_count;
      return;
    }
    heads.emplace(a.buffer->head_time(), index);
  };

  while (true) {
    // Open every input that may hold records before the earliest one in hand.
    while (next_pending < pending.size() && (heads.empty() || pending[next_pending].key <= heads.top().first)) {
      std::unique_ptr<BufferSink> buffer;
      if (spare.empty()) {
        buffer = std::make_unique<BufferSink>(downstream);
      } else {
        buffer = std::move(spare.back());
        spare.pop_back();
      }
      auto input = open_input(files[pending[next_pending++].order], *buffer, on_error, true);
      if (!input) continue;
      ++open_count;
      active.push_back({std::move(buffer), std::move(input)});
      refill(active.size() - 1);
    }
    if (heads.empty()) break;
    const std::size_t index = heads.top().second;
    heads.pop();
    BufferSink& buffer = *active[index].buffer;
    downstream.on_record(buffer.take());
    if (!buffer.exhausted()) {
      heads.emplace(buffer.head_time(), index);
    } else {
      refill(index);
    }
  }
}

}  // namespace flowlier::pipeline
