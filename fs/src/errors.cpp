// Error names and messages; the CRC-32 used for critical files.
#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define VMODEM_HAVE_CLMUL 1
#endif

#include <vmodem/fs/filesystem.hpp>

#include "volume.hpp"

namespace vmodem::fs {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::not_found:
      return "not_found";
    case Errc::exists:
      return "exists";
    case Errc::not_dir:
      return "not_dir";
    case Errc::is_dir:
      return "is_dir";
    case Errc::not_empty:
      return "not_empty";
    case Errc::invalid_name:
      return "invalid_name";
    case Errc::name_too_long:
      return "name_too_long";
    case Errc::no_space:
      return "no_space";
    case Errc::file_too_large:
      return "file_too_large";
    case Errc::too_many_open:
      return "too_many_open";
    case Errc::bad_handle:
      return "bad_handle";
    case Errc::busy:
      return "busy";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::read_only:
      return "read_only";
    case Errc::io_error:
      return "io_error";
    case Errc::corrupt:
      return "corrupt";
    case Errc::power_loss:
      return "power_loss";
    case Errc::check_failed:
      return "check_failed";
    case Errc::unsupported:
      return "unsupported";
  }
  return "unknown";
}

std::string Error::message() const {
  std::string s(to_string(code));
  if (check) s += ": " + check->describe();
  if (!detail.empty()) s += ": " + detail;
  return s;
}

#ifdef VMODEM_HAVE_CLMUL
namespace {

#define VMODEM_CLMUL __attribute__((target("pclmul,sse4.1")))

// The same CRC-32 as zlib's (reflected 0xEDB88320), folded with carry-less
// multiplies: Intel's "Fast CRC Computation for Generic Polynomials Using
// PCLMULQDQ", with the constants of its bit-reflected domain (as in
// Chromium's zlib). Several times zlib 1.2's table-driven crc32 here, and it
// matters: every boot checks the modem file system's RF calibration (84 KB)
// and every backup its whole archive. `len` is a multiple of 16 and at least
// 64; `crc` is the running CRC as zlib passes it (not inverted).

VMODEM_CLMUL inline __m128i clmul_load(const std::uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
// acc folded 128 bits forward (by the constants in k) and xored into next.
VMODEM_CLMUL inline __m128i clmul_fold(__m128i acc, __m128i k, __m128i next) {
  const __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(acc, k, 0x11), next), lo);
}

VMODEM_CLMUL std::uint32_t crc32_pclmul(const std::uint8_t* buf, std::size_t len,
                                        std::uint32_t crc) {
  alignas(16) static const std::uint64_t k1k2[] = {0x0154442bd4, 0x01c6e41596};
  alignas(16) static const std::uint64_t k3k4[] = {0x01751997d0, 0x00ccaa009e};
  alignas(16) static const std::uint64_t k5k0[] = {0x0163cd6124, 0x0000000000};
  alignas(16) static const std::uint64_t poly[] = {0x01db710641, 0x01f7011641};
  __m128i x1 = clmul_load(buf), x2 = clmul_load(buf + 16), x3 = clmul_load(buf + 32);
  __m128i x4 = clmul_load(buf + 48);
  x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128(static_cast<int>(~crc)));
  __m128i x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(k1k2));
  buf += 64;
  len -= 64;
  // Four independent 128-bit lanes, each folded 512 bits forward.
  for (; len >= 64; buf += 64, len -= 64) {
    const __m128i x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    const __m128i x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
    const __m128i x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
    const __m128i x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, x0, 0x11), x5), clmul_load(buf));
    x2 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x2, x0, 0x11), x6), clmul_load(buf + 16));
    x3 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x3, x0, 0x11), x7), clmul_load(buf + 32));
    x4 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x4, x0, 0x11), x8), clmul_load(buf + 48));
  }
  // The four lanes folded into one, then 128 bits at a time.
  x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(k3k4));
  x1 = clmul_fold(clmul_fold(clmul_fold(x1, x0, x2), x0, x3), x0, x4);
  for (; len >= 16; buf += 16, len -= 16)
    x1 = clmul_fold(x1, x0, clmul_load(buf));
  // 128 -> 64 bits, then Barrett reduction to 32.
  __m128i x2r = _mm_clmulepi64_si128(x1, x0, 0x10);
  const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2r);
  x0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(k5k0));
  x2r = _mm_srli_si128(x1, 4);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), x0, 0x00), x2r);
  x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(poly));
  x2r = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), x0, 0x10), mask32);
  x1 = _mm_xor_si128(x1, _mm_clmulepi64_si128(x2r, x0, 0x00));
  return ~static_cast<std::uint32_t>(_mm_extract_epi32(x1, 1));
}

bool have_clmul() {
  static const bool yes = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return yes;
}

}  // namespace
#endif

std::uint32_t crc32_update(std::uint32_t running, std::span<const std::uint8_t> data) {
  uLong crc = running;
  std::size_t done = 0;
#ifdef VMODEM_HAVE_CLMUL
  if (data.size() >= 64 && have_clmul()) {
    done = data.size() & ~std::size_t{15};  // the tail (< 16 bytes) goes to zlib
    crc = crc32_pclmul(data.data(), done, static_cast<std::uint32_t>(crc));
  }
#endif
  while (done < data.size()) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(data.size() - done, 1u << 30));
    crc = ::crc32(crc, data.data() + done, n);
    done += n;
  }
  return static_cast<std::uint32_t>(crc);
}

std::uint32_t crc32(std::span<const std::uint8_t> data) {
  return crc32_update(0, data);
}

}  // namespace vmodem::fs
