// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/access_token.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QtGlobal>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace batchscope::app::api {
namespace {

using engine::ErrorCode;
using engine::makeError;

bool isValidStoredToken(const QByteArray& text) {
    if (text.size() != AccessToken::kRandomBytes * 2) return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

engine::Status makePrivateDirectory(const QString& dir) {
    if (!QDir().mkpath(dir))
        return makeError(ErrorCode::Internal, "cannot create directory " + dir.toStdString());
#ifdef Q_OS_UNIX
    ::chmod(QFile::encodeName(dir).constData(), 0700);  // best effort: it may be shared (~/.config)
#endif
    return engine::Ok{};
}

/// Writes a new token file that exists only with owner-only permissions (O_EXCL, 0600).
engine::Status writeTokenFile(const QString& path, const QByteArray& token) {
#ifdef Q_OS_UNIX
    const QByteArray native = QFile::encodeName(path);
    ::unlink(native.constData());  // an invalid old file; O_EXCL below refuses symlink games
    const int fd = ::open(native.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return makeError(ErrorCode::Internal, "cannot create " + path.toStdString() + ": " +
                                                  std::strerror(errno));
    const QByteArray content = token + '\n';
    const bool written = ::write(fd, content.constData(), size_t(content.size())) == content.size();
    const bool closed = ::close(fd) == 0;
    if (!written || !closed)
        return makeError(ErrorCode::Internal, "cannot write " + path.toStdString());
    return engine::Ok{};
#else
    QFile file(path);
    file.remove();
    if (!file.open(QIODevice::WriteOnly | QIODevice::NewOnly))
        return makeError(ErrorCode::Internal, "cannot create " + path.toStdString());
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (file.write(token + '\n') != token.size() + 1)
        return makeError(ErrorCode::Internal, "cannot write " + path.toStdString());
    return engine::Ok{};
#endif
}

}  // namespace

QString AccessToken::generate() {
    quint32 words[kRandomBytes / 4];
    QRandomGenerator::system()->fillRange(words);
    QByteArray bytes(reinterpret_cast<const char*>(words), kRandomBytes);
    return QString::fromLatin1(bytes.toHex());
}

QString AccessToken::defaultPath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) +
           QStringLiteral("/api-token");
}

engine::Result<QString> AccessToken::loadOrCreate(const QString& path) {
    QFile file(path);
    if (file.open(QIODevice::ReadOnly)) {
        const QByteArray text = file.read(4096).trimmed();
        file.close();
        if (isValidStoredToken(text)) {
            const auto loose = QFileDevice::ReadGroup | QFileDevice::ReadOther |
                               QFileDevice::WriteGroup | QFileDevice::WriteOther;
            if (file.permissions() & loose)
                file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
            return QString::fromLatin1(text);
        }
    }
    if (auto dir = makePrivateDirectory(QFileInfo(path).absolutePath()); !dir)
        return dir.error();
    const QString token = generate();
    if (auto written = writeTokenFile(path, token.toLatin1()); !written) return written.error();
    return token;
}

QString AccessToken::validate(const QString& token) {
    if (token.size() < kMinLength)
        return QStringLiteral("the API token must be at least %1 characters").arg(kMinLength);
    for (QChar c : token)
        if (c.unicode() <= 0x20 || c.unicode() >= 0x7f)
            return QStringLiteral("the API token must be printable ASCII without spaces");
    return {};
}

engine::Result<ResolvedToken> AccessToken::resolve(const QString& commandLineToken,
                                                   const QString& path) {
    auto fromUser = [](const QString& token, TokenSource source) -> engine::Result<ResolvedToken> {
        if (const QString problem = validate(token); !problem.isEmpty())
            return makeError(ErrorCode::InvalidArgument, problem.toStdString());
        return ResolvedToken{token, source, {}};
    };
    if (!commandLineToken.isEmpty()) return fromUser(commandLineToken, TokenSource::CommandLine);
    const QString env = qEnvironmentVariable(kEnvironmentVariable);
    if (!env.isEmpty()) return fromUser(env, TokenSource::Environment);
    const bool existed = QFileInfo::exists(path);
    auto loaded = loadOrCreate(path);
    if (!loaded) return loaded.error();
    return ResolvedToken{loaded.value(), existed ? TokenSource::File : TokenSource::Generated, path};
}

}  // namespace batchscope::app::api
