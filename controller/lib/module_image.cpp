// A module file's image as init_module() takes it: decompressed here when
// the file is xz, zstd or gzip (recognised by content), as kmod does for
// modprobe.  The kernel's own decompression (finit_module with
// MODULE_INIT_COMPRESSED_FILE, CONFIG_MODULE_DECOMPRESS) is no substitute:
// Debian 12's 6.1 lacks it, and where it exists it accepts only xz streams
// with a CRC32 check, while DKMS 3.0.10 (Debian 12) compresses with xz's
// default, CRC64 ("decompression failed with status 6").
#include "module_image.hpp"

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#ifdef UTRACE_MODULE_DECOMPRESS
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#endif

#include "utrace/error.hpp"

namespace utrace
{

namespace
{

constexpr std::string_view kXzMagic{"\xfd"
                                    "7zXZ\0",
                                    6};
constexpr std::string_view kZstdMagic{"\x28\xb5\x2f\xfd", 4};
constexpr std::string_view kGzipMagic{"\x1f\x8b", 2};

#ifdef UTRACE_MODULE_DECOMPRESS

// No module is this large: a corrupt or hostile stream stops here.
constexpr size_t kMaxImage = size_t{1} << 30;

[[noreturn]] void bad(const std::string &path, const std::string &what)
{
	throw Error(EINVAL, path + ": cannot decompress (" + what + ")");
}

void grow(std::string &out, const std::string &path)
{
	if (out.size() >= kMaxImage)
		bad(path, "larger than 1 GiB");
	out.resize(out.size() + (size_t{1} << 20));
}

std::string unxz(const std::string &in, const std::string &path)
{
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		bad(path, "lzma_stream_decoder");
	std::string out;
	s.next_in = reinterpret_cast<const uint8_t *>(in.data());
	s.avail_in = in.size();
	lzma_ret ret = LZMA_OK;
	while (ret == LZMA_OK) {
		grow(out, path);
		const size_t done = s.total_out;
		s.next_out = reinterpret_cast<uint8_t *>(out.data()) + done;
		s.avail_out = out.size() - done;
		ret = lzma_code(&s, LZMA_FINISH);
	}
	out.resize(s.total_out);
	lzma_end(&s);
	if (ret != LZMA_STREAM_END)
		bad(path, "xz error " + std::to_string(ret));
	return out;
}

std::string unzstd(const std::string &in, const std::string &path)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	if (z == nullptr)
		bad(path, "ZSTD_createDStream");
	std::string out;
	size_t pos = 0;
	ZSTD_inBuffer src{in.data(), in.size(), 0};
	for (;;) {
		if (pos == out.size())
			grow(out, path);
		ZSTD_outBuffer dst{out.data(), out.size(), pos};
		const size_t ret = ZSTD_decompressStream(z, &dst, &src);
		pos = dst.pos;
		if (ZSTD_isError(ret)) {
			ZSTD_freeDStream(z);
			bad(path, std::string("zstd: ") + ZSTD_getErrorName(ret));
		}
		if (src.pos < src.size || dst.pos == dst.size)
			continue; // more input, or more output room needed
		ZSTD_freeDStream(z);
		if (ret != 0) // the last frame is not complete
			bad(path, "zstd: truncated");
		break;
	}
	out.resize(pos);
	return out;
}

std::string ungzip(const std::string &in, const std::string &path)
{
	z_stream s{};
	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		bad(path, "inflateInit2");
	std::string out;
	s.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
	s.avail_in = static_cast<uInt>(in.size());
	int ret = Z_OK;
	while (ret == Z_OK) {
		grow(out, path);
		s.next_out = reinterpret_cast<Bytef *>(out.data()) + s.total_out;
		s.avail_out = static_cast<uInt>(out.size() - s.total_out);
		ret = inflate(&s, Z_FINISH);
		if (ret == Z_BUF_ERROR && s.avail_out == 0)
			ret = Z_OK; // more output room needed
	}
	out.resize(s.total_out);
	inflateEnd(&s);
	if (ret != Z_STREAM_END)
		bad(path, "gzip error " + std::to_string(ret));
	return out;
}

#endif // UTRACE_MODULE_DECOMPRESS

} // namespace

std::string module_image(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	if (!f)
		throw_errno(errno ? errno : EIO, "read " + path);
	std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	const std::string_view v(data);
#ifdef UTRACE_MODULE_DECOMPRESS
	if (v.starts_with(kXzMagic))
		return unxz(data, path);
	if (v.starts_with(kZstdMagic))
		return unzstd(data, path);
	if (v.starts_with(kGzipMagic))
		return ungzip(data, path);
#else
	if (v.starts_with(kXzMagic) || v.starts_with(kZstdMagic) || v.starts_with(kGzipMagic))
		throw Error(EOPNOTSUPP, path + ": compressed, and this build of libutrace has no "
		                               "decompressors (UTRACE_MODULE_DECOMPRESS)");
#endif
	return data;
}

} // namespace utrace
