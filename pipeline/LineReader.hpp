#pragma once
// Reads one input (a file, a .gz file, or stdin) as chunks that end on line
// boundaries, so decoders see whole lines without a copy per line.
//
// gzip is recognised by its magic bytes, not the name. A line longer than the
// configured limit is never buffered whole: the reader reports it through
// `on_long_line` (its first bytes and line number) and skips to the next newline,
// which bounds memory whatever the input holds.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace flowlier::pipeline {

class LineReader {
 public:
  using LongLineHandler = std::function<void(std::uint64_t line, std::string_view prefix, std::size_t length)>;

  LineReader(std::size_t max_line_bytes, LongLineHandler on_long_line);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Opens `path` ("-" = stdin). Returns an empty string, or why it cannot be read.
  std::string open(const std::string& path);

  // Peeks at up to `n` bytes from the start of the (decompressed) input without
  // consuming them; used for format detection.
  std::string_view peek(std::size_t n);

  // Sets `chunk` to the next run of whole lines (the last line of the input may lack
  // its '\n') and `first_line` to the 1-based number of its first line. Returns false
  // at end of input or on error (then error() says why).
  bool next(std::string_view& chunk, std::uint64_t& first_line);

  // Changes the line bound, e.g. once detection shows the input is one JSON document.
  void set_max_line_bytes(std::size_t n) { max_line_bytes_ = n; }

  const std::string& error() const { return error_; }
  bool is_gzip() const { return gzip_ != nullptr; }
  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Appends up to `want` raw bytes to buffer_ end; returns bytes added, 0 at EOF, -1 on error.
  long fill(std::size_t want);

  std::size_t max_line_bytes_;
  LongLineHandler on_long_line_;
  int fd_ = -1;
  bool owns_fd_ = false;
  struct GzipState;
  std::unique_ptr<GzipState> gzip_;
  std::string path_;
  std::string buffer_;
  std::size_t begin_ = 0;  // consumed prefix of buffer_
  std::size_t end_ = 0;    // valid bytes in buffer_
  bool eof_ = false;
  std::uint64_t next_line_ = 1;
  std::uint64_t bytes_read_ = 0;
  std::string error_;
};

}  // namespace flowlier::pipeline
