#include "codec.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include <lzma.h>
#include <zstd.h>

#include "sparse_codec.hpp"

namespace vmodem::fota::detail {
namespace {

constexpr std::uint8_t kMinDictLog = 12;
constexpr std::uint8_t kMaxDictLog = 28;  // caps decoder memory at 256 MiB

// A dictionary just large enough for the stream: same ratio as a bigger one,
// but the applier's memory stays proportional to the image.
std::uint8_t dict_log_for(std::size_t raw_size) {
  std::uint8_t log = kMinDictLog;
  while (log < kMaxDictLog && (std::size_t{1} << log) < raw_size)
    ++log;
  return log;
}

Result<Bytes> lzma2_compress(ByteView raw, const CodecChoice& choice, std::uint8_t dict_log,
                             ByteView dictionary) {
  lzma_options_lzma opts{};
  if (lzma_lzma_preset(&opts, 9 | LZMA_PRESET_EXTREME)) {
    return fail(ErrorCode::kInvalidInput, "lzma preset unavailable");
  }
  opts.dict_size = std::uint32_t{1} << dict_log;
  opts.lc = choice.lc;
  opts.lp = choice.lp;
  opts.pb = choice.pb;
  opts.nice_len = choice.nice_len;
  if (!dictionary.empty()) {
    opts.preset_dict = dictionary.data();
    opts.preset_dict_size = static_cast<std::uint32_t>(dictionary.size());
  }
  const lzma_filter filters[] = {{LZMA_FILTER_LZMA2, &opts}, {LZMA_VLI_UNKNOWN, nullptr}};
  Bytes out(lzma_stream_buffer_bound(raw.size()));
  std::size_t out_pos = 0;
  const lzma_ret ret = lzma_raw_buffer_encode(filters, nullptr, raw.data(), raw.size(), out.data(),
                                              &out_pos, out.size());
  if (ret != LZMA_OK) return fail(ErrorCode::kInvalidInput, "lzma encoding failed");
  out.resize(out_pos);
  return out;
}

Result<Bytes> zstd_compress(ByteView raw, const CodecChoice& choice, std::uint8_t window_log,
                            ByteView dictionary) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (!dictionary.empty()) ZSTD_CCtx_refPrefix(cctx, dictionary.data(), dictionary.size());
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, choice.zstd_level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, std::max<int>(window_log, 10));
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);  // the frame header carries it
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);     // the package digest covers it
  Bytes out(ZSTD_compressBound(raw.size()));
  const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), raw.data(), raw.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) return fail(ErrorCode::kInvalidInput, "zstd encoding failed");
  out.resize(n);
  return out;
}

Bytes frame(Codec codec, std::uint8_t parameter, std::size_t raw_size, ByteView payload) {
  Bytes out;
  put_u8(out, static_cast<std::uint8_t>(codec));
  put_u8(out, parameter);
  put_varint(out, raw_size);
  put_varint(out, payload.size());
  put_bytes(out, payload);
  return out;
}

// The raw bytes as a stored frame, in the short form if asked.
Bytes stored_frame(ByteView raw, bool short_stored) {
  if (!short_stored) return frame(Codec::kStored, 0, raw.size(), raw);
  Bytes out;
  put_u8(out, static_cast<std::uint8_t>(Codec::kStoredShort));
  put_varint(out, raw.size());
  put_bytes(out, raw);
  return out;
}

// The rest of a kStoredShort frame after its codec byte.
Result<StreamFrame> read_short_stored(Reader& reader) {
  StreamFrame f;
  const auto size = reader.varint();
  if (!reader.ok() || !size) return fail(ErrorCode::kBadPackage, "truncated stream header");
  if (*size > kMaxStreamBytes) return fail(ErrorCode::kBadPackage, "stream size absurd");
  f.raw_size = *size;
  f.payload = reader.bytes(*size);
  if (!reader.ok() || f.payload.size() != *size) {
    return fail(ErrorCode::kBadPackage, "truncated stream data");
  }
  return f;
}

class StoredDecoder final : public StreamDecoder {
 public:
  explicit StoredDecoder(const StreamFrame& f) : StreamDecoder(f.raw_size), data_(f.payload) {}
  Status read(std::span<std::uint8_t> out) override {
    if (out.size() > data_.size() - pos_) return fail(ErrorCode::kBadPackage, "stream too short");
    if (out.empty()) return {};  // data_ may be a null view
    std::memcpy(out.data(), data_.data() + pos_, out.size());
    pos_ += out.size();
    return {};
  }
  std::uint64_t produced() const override { return pos_; }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
};

class Lzma2Decoder final : public StreamDecoder {
 public:
  Lzma2Decoder(const StreamFrame& f, ByteView dictionary)
      : StreamDecoder(f.raw_size), data_(f.payload), dictionary_(dictionary) {}
  ~Lzma2Decoder() override { lzma_end(&strm_); }
  Lzma2Decoder(const Lzma2Decoder&) = delete;
  Lzma2Decoder& operator=(const Lzma2Decoder&) = delete;

  Status init(std::uint8_t dict_log) {
    // Never more window than this stream can use: a hostile header cannot
    // make the decoder allocate its declared maximum.
    const std::uint64_t needed = std::max<std::uint64_t>(4096, dictionary_.size() + raw_size_);
    opts_.dict_size = static_cast<std::uint32_t>(std::min<std::uint64_t>(needed, 1ull << dict_log));
    if (!dictionary_.empty()) {
      opts_.preset_dict = dictionary_.data();
      opts_.preset_dict_size = static_cast<std::uint32_t>(dictionary_.size());
    }
    const lzma_filter filters[] = {{LZMA_FILTER_LZMA2, &opts_}, {LZMA_VLI_UNKNOWN, nullptr}};
    if (lzma_raw_decoder(&strm_, filters) != LZMA_OK) {
      return fail(ErrorCode::kUnpackFailed, "lzma decoder init failed");
    }
    strm_.next_in = data_.data();
    strm_.avail_in = data_.size();
    return {};
  }

  Status read(std::span<std::uint8_t> out) override {
    if (out.size() > raw_size_ - produced_) return fail(ErrorCode::kBadPackage, "stream overrun");
    strm_.next_out = out.data();
    strm_.avail_out = out.size();
    while (strm_.avail_out > 0) {
      const lzma_ret ret = lzma_code(&strm_, LZMA_FINISH);
      if (ret == LZMA_STREAM_END && strm_.avail_out > 0) break;
      if (ret != LZMA_OK && ret != LZMA_STREAM_END) break;
      if (ret == LZMA_OK && strm_.avail_in == 0 && strm_.avail_out > 0) break;
    }
    if (strm_.avail_out != 0) return fail(ErrorCode::kBadPackage, "lzma stream corrupt");
    produced_ += out.size();
    return {};
  }
  std::uint64_t produced() const override { return produced_; }

 private:
  ByteView data_;
  ByteView dictionary_;
  lzma_stream strm_ = LZMA_STREAM_INIT;
  lzma_options_lzma opts_{};
  std::uint64_t produced_ = 0;
};

class ZstdDecoder final : public StreamDecoder {
 public:
  ZstdDecoder(const StreamFrame& f, ByteView dictionary)
      : StreamDecoder(f.raw_size), data_(f.payload), dctx_(ZSTD_createDCtx()) {
    ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, f.parameter);
    if (!dictionary.empty()) ZSTD_DCtx_refPrefix(dctx_, dictionary.data(), dictionary.size());
  }
  ~ZstdDecoder() override { ZSTD_freeDCtx(dctx_); }
  ZstdDecoder(const ZstdDecoder&) = delete;
  ZstdDecoder& operator=(const ZstdDecoder&) = delete;

  Status read(std::span<std::uint8_t> out) override {
    if (out.size() > raw_size_ - produced_) return fail(ErrorCode::kBadPackage, "stream overrun");
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    while (ob.pos < ob.size) {
      ZSTD_inBuffer ib{data_.data(), data_.size(), in_pos_};
      const std::size_t ret = ZSTD_decompressStream(dctx_, &ob, &ib);
      const bool stalled = ib.pos == in_pos_ && ob.pos < ob.size;
      in_pos_ = ib.pos;
      if (ZSTD_isError(ret) || (ret == 0 && ob.pos < ob.size) || (stalled && ib.pos == ib.size)) {
        return fail(ErrorCode::kBadPackage, "zstd stream corrupt");
      }
    }
    produced_ += out.size();
    return {};
  }
  std::uint64_t produced() const override { return produced_; }

 private:
  ByteView data_;
  ZSTD_DCtx* dctx_;
  std::size_t in_pos_ = 0;
  std::uint64_t produced_ = 0;
};

}  // namespace

Result<Bytes> encode_stream(ByteView raw, const CodecChoice& choice, ByteView dictionary) {
  const bool primed = uses_dictionary(choice.codec);
  if (!primed) dictionary = {};
  // The window must hold the dictionary and the stream so every back
  // reference into old stays reachable.
  const std::uint8_t dict_log = dict_log_for(raw.size() + dictionary.size());
  Result<Bytes> packed = Bytes{};
  switch (choice.codec) {
    case Codec::kStored:
    case Codec::kStoredShort:
      return stored_frame(raw, choice.short_stored || choice.codec == Codec::kStoredShort);
    case Codec::kLzma2:
    case Codec::kLzma2WithOld:
      packed = lzma2_compress(raw, choice, dict_log, dictionary);
      break;
    case Codec::kZstd:
    case Codec::kZstdWithOld:
      packed = zstd_compress(raw, choice, dict_log, dictionary);
      break;
    case Codec::kSparse:
      packed = sparse_compress(raw, choice.short_stored);
      break;
  }
  if (!packed) return tl::unexpected(packed.error());
  return frame(choice.codec, dict_log, raw.size(), *packed);
}

Result<Bytes> encode_stream_best(ByteView raw, std::span<const CodecChoice> choices,
                                 ByteView dictionary, bool short_stored) {
  Bytes best = stored_frame(raw, short_stored);
  for (const auto& choice : choices) {
    auto candidate = encode_stream(raw, choice, dictionary);
    if (!candidate) return candidate;
    if (candidate->size() < best.size()) best = std::move(*candidate);
  }
  return best;
}

Result<StreamFrame> read_frame(Reader& reader) {
  StreamFrame f;
  const std::uint8_t codec = reader.u8();
  if (reader.ok() && codec == static_cast<std::uint8_t>(Codec::kStoredShort)) {
    return read_short_stored(reader);
  }
  f.parameter = reader.u8();
  const auto raw_size = reader.varint();
  const auto packed_size = reader.varint();
  if (!reader.ok() || !raw_size || !packed_size) {
    return fail(ErrorCode::kBadPackage, "truncated stream header");
  }
  if (codec > static_cast<std::uint8_t>(Codec::kSparse)) {
    return fail(ErrorCode::kUnsupported, "unknown stream codec " + std::to_string(codec));
  }
  if (*raw_size > kMaxStreamBytes) return fail(ErrorCode::kBadPackage, "stream size absurd");
  f.codec = static_cast<Codec>(codec);
  f.raw_size = *raw_size;
  f.payload = reader.bytes(*packed_size);
  if (!reader.ok()) return fail(ErrorCode::kBadPackage, "truncated stream data");
  if (f.codec == Codec::kStored && f.payload.size() != f.raw_size) {
    return fail(ErrorCode::kBadPackage, "stored stream size mismatch");
  }
  if (f.codec == Codec::kStored ? f.parameter != 0
                                : (f.parameter < kMinDictLog || f.parameter > kMaxDictLog)) {
    return fail(ErrorCode::kBadPackage, "stream window out of range");
  }
  return f;
}

Result<std::unique_ptr<StreamDecoder>> make_decoder(const StreamFrame& frame, ByteView dictionary) {
  if (!uses_dictionary(frame.codec)) dictionary = {};
  if (frame.codec != Codec::kStored && frame.parameter <= kMaxDictLog &&
      dictionary.size() + frame.raw_size > (std::uint64_t{1} << frame.parameter)) {
    return fail(ErrorCode::kBadPackage, "stream window smaller than its dictionary");
  }
  switch (frame.codec) {
    case Codec::kStored:
    case Codec::kStoredShort:  // read_frame() returns these as kStored
      return std::make_unique<StoredDecoder>(frame);
    case Codec::kLzma2:
    case Codec::kLzma2WithOld: {
      auto dec = std::make_unique<Lzma2Decoder>(frame, dictionary);
      if (auto st = dec->init(frame.parameter); !st) return tl::unexpected(st.error());
      return dec;
    }
    case Codec::kZstd:
    case Codec::kZstdWithOld:
      return std::make_unique<ZstdDecoder>(frame, dictionary);
    case Codec::kSparse:
      return make_sparse_decoder(frame);
  }
  return fail(ErrorCode::kUnsupported, "unknown codec");
}

}  // namespace vmodem::fota::detail
