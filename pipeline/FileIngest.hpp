#pragma once
// Reads named inputs (files, .gz, directories, "-") through the right decoder into a
// DecodeSink, keeping the books (IngestStats) and reporting rejects (RejectLog).
// Shared by `normalize`, `replay` and the live file sources.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/DecodeSink.hpp"
#include "pipeline/IngestStats.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/RejectLog.hpp"

namespace flowlier::pipeline {

struct IngestOptions {
  std::optional<InputFormat> format;  // nullopt: detect per input
  DecoderOptions decoder;
  // Merge the inputs by record time (replay) instead of reading them one after another
  // (normalize): inputs are opened in the order of the time their path says
  // (pipeline/InputTime) or, failing that, their first records say, and the records of
  // the inputs open together are merged by time (a k-way merge on each input's next
  // record, keeping each input's own order; it holds one chunk, or one JSON document, per
  // open input, and the only open input streams straight through).
  bool time_order = false;
};

class FileIngest {
 public:
  using ErrorHandler = std::function<void(const std::string& message)>;

  FileIngest(IngestOptions options, RejectLog& rejects, IngestStats& stats);

  // Reads every input, one after another or (time_order) merged by time. Inputs that
  // cannot be read, are empty, are of an unknown format or end in truncated gzip are
  // reported through `on_error` (records decoded before the fault are kept) and counted;
  // reading goes on with the next.
  void read(const std::vector<std::string>& paths, DecodeSink& downstream, const ErrorHandler& on_error);

  // Reads one already-expanded input.
  void read_one(const std::string& path, DecodeSink& downstream, const ErrorHandler& on_error);

  // When the input's records begin (ns), to read inputs in time order: the time its
  // path says (pipeline/InputTime), else the earliest record time in its first chunk
  // (or document); nullopt when neither says. Counts and reports nothing.
  std::optional<std::int64_t> start_time(const std::string& path);

  // source_index -> input name, for records' source_index.
  const std::vector<std::string>& sources() const { return sources_; }

  ~FileIngest();
  struct OpenInput;  // one input being read (FileIngest.cpp)

 private:
  // Opens one input: reads the first bytes, detects the format. Null when it cannot be
  // used (reported and counted when `count`; a probe counts nothing). Records and rejects
  // go to `target` as they are decoded.
  std::unique_ptr<OpenInput> open_input(const std::string& path, DecodeSink& target, const ErrorHandler& on_error,
                                        bool count);
  void read_merged(const std::vector<std::string>& files, DecodeSink& downstream, const ErrorHandler& on_error);
  // The earliest record time in the input's first chunk (or document), for inputs whose
  // path says no time.
  std::optional<std::int64_t> first_record_time(const std::string& path);

  IngestOptions options_;
  RejectLog& rejects_;
  IngestStats& stats_;
  std::vector<std::string> sources_;
};

}  // namespace flowlier::pipeline
