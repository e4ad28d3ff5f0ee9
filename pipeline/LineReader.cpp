#include "pipeline/LineReader.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>

#include <fmt/format.h>

namespace flowlier::pipeline {

namespace {
constexpr std::size_t kReadSize = 4 << 20;

std::uint64_t count_newlines(const char* p, std::size_t n) {
  std::uint64_t count = 0;
  const char* end = p + n;
  while (p < end) {
    const void* hit = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (!hit) break;
    ++count;
    p = static_cast<const char*>(hit) + 1;
  }
  return count;
}
}  // namespace

struct LineReader::GzipState {
  z_stream zs{};
  std::string input = std::string(1 << 18, '\0');
  bool input_eof = false;
  bool stream_end = false;
  std::string failure;  // reported on the next fill, after what was inflated is handed out
  GzipState() { inflateInit2(&zs, 15 + 32); }
  ~GzipState() { inflateEnd(&zs); }
};

LineReader::LineReader(std::size_t max_line_bytes, LongLineHandler on_long_line)
    : max_line_bytes_(max_line_bytes), on_long_line_(std::move(on_long_line)) {}

LineReader::~LineReader() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

std::string LineReader::open(const std::string& path) {
  path_ = path;
  if (path == "-") {
    fd_ = 0;
    owns_fd_ = false;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return fmt::format("{}: cannot open: {}", path, std::strerror(errno));
    owns_fd_ = true;
    struct stat st{};
    if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) return fmt::format("{}: is a directory", path);
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  }
  buffer_.resize(kReadSize + 1);
  // Sniff the gzip magic from the raw bytes before deciding how to read on.
  char magic[2];
  ssize_t got = 0;
  while (got < 2) {
    const ssize_t n = ::read(fd_, magic + got, static_cast<std::size_t>(2 - got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fmt::format("{}: read error: {}", path, std::strerror(errno));
    }
    if (n == 0) break;
    got += n;
  }
  bytes_read_ = static_cast<std::uint64_t>(got);
  if (got == 2 && static_cast<unsigned char>(magic[0]) == 0x1f && static_cast<unsigned char>(magic[1]) == 0x8b) {
    gzip_ = std::make_unique<GzipState>();
    std::memcpy(gzip_->input.data(), magic, 2);
    gzip_->zs.next_in = reinterpret_cast<Bytef*>(gzip_->input.data());
    gzip_->zs.avail_in = 2;
  } else {
    const std::size_t have = got == 2 ? 2 : (got == 1 ? 1 : 0);
    std::memcpy(buffer_.data(), magic, have);
    end_ = have;
    if (got < 2) eof_ = true;
  }
  return {};
}

long LineReader::fill(std::size_t want) {
  if (buffer_.size() < end_ + want) buffer_.resize(end_ + want);
  char* out = buffer_.data() + end_;
  if (!gzip_) {
    while (true) {
      const ssize_t n = ::read(fd_, out, want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error_ = fmt::format("{}: read error: {}", path_, std::strerror(errno));
        return -1;
      }
      bytes_read_ += static_cast<std::uint64_t>(n);
      end_ += static_cast<std::size_t>(n);
      return n;
    }
  }
  auto& g = *gzip_;
  if (!g.failure.empty()) {
    error_ = g.failure;
    return -1;
  }
  g.zs.next_out = reinterpret_cast<Bytef*>(out);
  g.zs.avail_out = static_cast<uInt>(want);
  while (g.zs.avail_out == want) {
    if (g.zs.avail_in == 0 && !g.input_eof) {
      ssize_t n;
      do {
        n = ::read(fd_, g.input.data(), g.input.size());
      } while (n < 0 && errno == EINTR);
      if (n < 0) {
        error_ = fmt::format("{}: read error: {}", path_, std::strerror(errno));
        return -1;
      }
      bytes_read_ += static_cast<std::uint64_t>(n);
      if (n == 0) g.input_eof = true;
      g.zs.next_in = reinterpret_cast<Bytef*>(g.input.data());
      g.zs.avail_in = static_cast<uInt>(n);
    }
    if (g.stream_end) {
      if (g.zs.avail_in == 0 && g.input_eof) return 0;
      if (g.zs.avail_in == 0) continue;
      // Another gzip member follows: concatenated .gz files are valid.
      inflateReset(&g.zs);
      g.stream_end = false;
    }
    if (g.zs.avail_in == 0 && g.input_eof) {
      g.failure = fmt::format("{}: gzip data is truncated (unexpected end of file)", path_);
      break;
    }
    const int rc = inflate(&g.zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      g.stream_end = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      g.failure = fmt::format("{}: gzip data is corrupt: {}", path_, g.zs.msg ? g.zs.msg : "inflate failed");
      break;
    }
  }
  const std::size_t produced = want - g.zs.avail_out;
  end_ += produced;
  if (produced == 0 && !g.failure.empty()) {
    error_ = g.failure;
    return -1;
  }
  return static_cast<long>(produced);
}

std::string_view LineReader::peek(std::size_t n) {
  while (!eof_ && error_.empty() && end_ - begin_ < n) {
    const long got = fill(std::max(kReadSize, n));
    if (got <= 0) eof_ = true;
  }
  return std::string_view(buffer_.data() + begin_, std::min(n, end_ - begin_));
}

bool LineReader::next(std::string_view& chunk, std::uint64_t& first_line) {
  while (true) {
    // After a read error, hand out what was read before it (a truncated .gz keeps
    // its valid lines; the cut last line goes to the decoder and is rejected there).
    if (!error_.empty() && begin_ == end_) return false;
    const char* base = buffer_.data();
    const std::size_t pending = end_ - begin_;
    if (pending > 0) {
      const void* last = ::memrchr(base + begin_, '\n', pending);
      if (last) {
        const std::size_t stop = static_cast<std::size_t>(static_cast<const char*>(last) - base) + 1;
        chunk = std::string_view(base + begin_, stop - begin_);
        first_line = next_line_;
        next_line_ += count_newlines(chunk.data(), chunk.size());
        begin_ = stop;
        return true;
      }
      if (eof_) {
        chunk = std::string_view(base + begin_, pending);
        first_line = next_line_;
        begin_ = end_;
        return true;
      }
      if (pending > max_line_bytes_) {
        // A hostile or broken line: report its start and skip to its end.
        const std::string prefix(base + begin_, std::min<std::size_t>(pending, 200));
        std::size_t length = pending;
        begin_ = end_ = 0;
        bool found = false;
        while (!found) {
          const long got = fill(kReadSize);
          if (got < 0) return false;
          if (got == 0) {
            eof_ = true;
            break;
          }
          const void* nl = std::memchr(buffer_.data(), '\n', end_);
          if (nl) {
            const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer_.data());
            length += at;
            begin_ = at + 1;
            found = true;
          } else {
            length += end_;
            end_ = 0;
          }
        }
        if (on_long_line_) on_long_line_(next_line_, prefix, length);
        ++next_line_;
        continue;
      }
    } else if (eof_) {
      return false;
    }
    // Move the partial line to the front, then read more behind it.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    const long got = fill(kReadSize);
    if (got <= 0) eof_ = true;
  }
}

}  // namespace flowlier::pipeline
