// Smoke test of runGui itself: the whole start-up path (QApplication, bridge, window, model
// load on the worker thread, API hook) with the simulated executor, then a request end to end.
// A plain program (runGui owns the QApplication): exit code 0 = pass.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QApplication>
#include <QIcon>
#include <QPixmap>
#include <QSettings>
#include <QFile>
#include <QTemporaryDir>
#include <QTimer>
#include <cstdio>

#include "app/bridge/engine_bridge.h"
#include "app/gui/gui_main.h"
#include "ui/main_window.h"
#include "ui/status_summary.h"

using namespace batchscope;

int main(int argc, char** argv) {
    QTemporaryDir settingsDir;  // keep the user's real settings out of it
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
    // The chat history goes to the user's data directory (AppDataLocation): point it here.
    qputenv("XDG_DATA_HOME", settingsDir.path().toUtf8());

    int portSeen = 0;
    bool hookCalled = false, finishedOk = false, endpointShown = false, iconLoaded = false;
    std::string text;
    app::setApiServerStarter([&](app::EngineBridge& bridge, int port, app::ApiEndpoint& endpoint) {
        hookCalled = true;
        iconLoaded = !QApplication::windowIcon().pixmap(64, 64).isNull();
        portSeen = port;
        endpoint = {QStringLiteral("ws://127.0.0.1:4321"), QStringLiteral("token-123")};
        auto server = std::make_unique<QObject>();  // stands in for the API server
        QObject::connect(&bridge, &app::EngineBridge::modelChanged, server.get(), [&bridge] {
            engine::GenerationOptions options;
            options.maxTokens = 8;
            options.ignoreEos = true;
            if (!bridge.submit(QStringLiteral("smoke"), options)) qApp->exit(4);
        });
        QObject::connect(&bridge, &app::EngineBridge::requestFinished, server.get(),
                         [&](const engine::GenerationResult& r) {
                             finishedOk = r.finishReason == engine::FinishReason::MaxTokens &&
                                          r.usage.completionTokens == 8;
                             text = r.text;
                             for (QWidget* w : QApplication::topLevelWidgets())
                                 if (auto* window = w->findChild<ui::MainWindow*>())  // in the console's tab
                                     endpointShown = window->statusSummary()->apiUrl() ==
                                                     QLatin1String("ws://127.0.0.1:4321");
                             QTimer::singleShot(0, qApp, &QCoreApplication::quit);
                         });
        QTimer::singleShot(30000, server.get(), [] { qApp->exit(3); });  // watchdog
        return server;
    });
    app::GuiOptions options;
    options.simulated = true;
    options.port = 4321;
    const int rc = app::runGui(argc, argv, options);
    const bool chatDb = QFile::exists(settingsDir.filePath(QStringLiteral("batchscope/chat-history.sqlite")));
    std::printf("runGui rc=%d hook=%d port=%d finished=%d endpoint=%d icon=%d chat-db=%d text='%s'\n", rc,
                int(hookCalled), portSeen, int(finishedOk), int(endpointShown), int(iconLoaded),
                int(chatDb), text.c_str());
    const bool pass = rc == 0 && hookCalled && portSeen == 4321 && finishedOk && endpointShown &&
                      iconLoaded && chatDb && !text.empty();
    std::printf("%s\n", pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
}
