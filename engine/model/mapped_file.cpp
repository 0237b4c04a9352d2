// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace batchscope::engine {

namespace {
// A valid address for empty files/buffers, so data() is never null.
const std::byte kEmpty[1] = {};
}  // namespace

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return makeError(ErrorCode::NotFound,
                         "cannot open '" + path + "': " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return makeError(ErrorCode::InvalidFormat, "'" + path + "' is not a regular file");
    }
    std::unique_ptr<MappedFile> file(new MappedFile());
    file->m_path = path;
    file->m_size = static_cast<std::uint64_t>(st.st_size);
    file->m_data = kEmpty;
    if (file->m_size > 0) {
        void* p = ::mmap(nullptr, file->m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            return makeError(ErrorCode::Internal,
                             "cannot map '" + path + "': " + std::strerror(err));
        }
        file->m_mapping = p;
        file->m_data = static_cast<const std::byte*>(p);
    }
    ::close(fd);  // the mapping keeps the file alive
    return file;
}

std::unique_ptr<MappedFile> MappedFile::fromBytes(std::vector<std::uint8_t> bytes) {
    std::unique_ptr<MappedFile> file(new MappedFile());
    file->m_path = "<memory>";
    file->m_owned = std::move(bytes);
    file->m_size = file->m_owned.size();
    file->m_data = file->m_owned.empty() ? kEmpty
                                         : reinterpret_cast<const std::byte*>(file->m_owned.data());
    return file;
}

MappedFile::~MappedFile() {
    if (m_mapping != nullptr) ::munmap(m_mapping, m_size);
}

}  // namespace batchscope::engine
