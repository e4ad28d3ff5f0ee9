#pragma once
// Reads named inputs (files, .gz, directories, "-") through the right decoder into a
// DecodeSink, keeping the books (IngestStats) and reporting rejects (RejectLog).
// Shared by `normalize`, `replay` and the live file sources.
#include <functional>
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
};

class FileIngest {
 public:
  using ErrorHandler = std::function<void(const std::string& message)>;

  FileIngest(IngestOptions options, RejectLog& rejects, IngestStats& stats);

  // Reads every input in order. Inputs that cannot be read, are empty, are of an
  // unknown format or end in truncated gzip are reported through `on_error` (records
  // decoded before the fault are kept) and counted; reading goes on with the next.
  void read(const std::vector<std::string>& paths, DecodeSink& downstream, const ErrorHandler& on_error);

  // Reads one already-expanded input.
  void read_one(const std::string& path, DecodeSink& downstream, const ErrorHandler& on_error);

  // source_index -> input name, for records' source_index.
  const std::vector<std::string>& sources() const { return sources_; }

 private:
  IngestOptions options_;
  RejectLog& rejects_;
  IngestStats& stats_;
  std::vector<std::string> sources_;
};

}  // namespace flowlier::pipeline
