// The API's access token: 256 random bits as hex, kept in the user's config directory with
// owner-only permissions, overridable from the command line or the environment.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QString>

#include "engine/core/result.h"

namespace batchscope::app::api {

/// Where a resolved token came from (for the log line; the token itself is never logged).
enum class TokenSource { CommandLine, Environment, File, Generated };

struct ResolvedToken {
    QString token;
    TokenSource source = TokenSource::File;
    QString path;  ///< the token file, for File and Generated
};

class AccessToken {
public:
    static constexpr int kRandomBytes = 32;  ///< 256 bits -> 64 hex characters
    static constexpr int kMinLength = 16;     ///< shortest token accepted from the user
    static constexpr char kEnvironmentVariable[] = "BATCHSCOPE_API_TOKEN";

    /// 64 lowercase hex characters from QRandomGenerator::system().
    static QString generate();
    /// QStandardPaths::AppConfigLocation + "/api-token".
    static QString defaultPath();
    /// Reads the token file; creates it (directory 0700, file 0600, created with those modes
    /// before anything is written) when it is missing or does not hold a valid token.
    /// A file readable by group/others is tightened to 0600.
    static engine::Result<QString> loadOrCreate(const QString& path);
    /// Precedence: commandLineToken (non-empty) > $BATCHSCOPE_API_TOKEN > the file at path.
    /// User-given tokens must be >= kMinLength printable ASCII characters without spaces.
    static engine::Result<ResolvedToken> resolve(const QString& commandLineToken,
                                                 const QString& path = defaultPath());
    /// Checks a user-given token; an empty string when fine, else what is wrong.
    static QString validate(const QString& token);
};

}  // namespace batchscope::app::api
