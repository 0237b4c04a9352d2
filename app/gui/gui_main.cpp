// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/gui_main.h"

#include <cstdio>

#include <QApplication>
#include <QIcon>
#include <QMessageBox>
#include <QSettings>
#include <QTimer>

#include "app/bridge/engine_bridge.h"
#include "app/chat/conversation_store.h"
#include "app/gui/chat_controller.h"
#include "app/gui/console_window.h"
#include "app/gui/gui_controller.h"
#include "app/remote/local_engine_source.h"
#include "ui/main_window.h"

namespace batchscope::app {

namespace {
ApiServerStarter& apiStarter() {
    static ApiServerStarter starter;
    return starter;
}

QString initialModel(const GuiOptions& options) {
    if (options.simulated) return QStringLiteral("simulated");
    if (!options.modelPath.isEmpty()) return options.modelPath;
    return QSettings().value(QStringLiteral("model/lastPath")).toString();
}
}  // namespace

void setApiServerStarter(ApiServerStarter starter) { apiStarter() = std::move(starter); }

int runGui(int argc, char** argv, const GuiOptions& options) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("batchscope"));
    QGuiApplication::setDesktopFileName(QStringLiteral("io.github.batchscope.Batchscope"));  // matches installer/
    QApplication::setApplicationVersion(QStringLiteral(BATCHSCOPE_VERSION));
    QIcon icon;
    for (int size : {32, 64, 256})
        icon.addFile(QStringLiteral(":/batchscope/icons/batchscope-%1.png").arg(size), QSize(size, size));
    QApplication::setWindowIcon(icon);

    // --connect-ca / --connect-fingerprint: checked before any window opens (exit 2 on error).
    QList<remote::ConnectionSpec> connections = options.connections;
    for (qsizetype i = 0; i < connections.size() && i < options.connectionTrust.size(); ++i) {
        const GuiOptions::TrustFiles& files = options.connectionTrust[i];
        if (files.caFile.isEmpty() && files.fingerprint.isEmpty()) continue;
        auto trust = remote::loadTlsTrust(files.caFile, files.fingerprint);
        if (!trust) {
            std::fprintf(stderr, "error: %s\n", trust.error().message.c_str());
            return 2;
        }
        connections[i].tls = trust.value();
    }

    EngineBridge bridge;
    ConsoleWindow console;  // before the window: the window leaves it when destroyed
    ui::MainWindow window;
    {
        QSettings settings;
        window.restoreSettings(settings);
    }
    GuiController controller(bridge, window);
    controller.setExecutorDefaults(options.executor);
    controller.setChatTemplateOverride(options.chatTemplate);

    // Chat history: a database that cannot be used turns chat history off with a message,
    // chat itself goes on with a history in memory (not saved); the rest of the app starts
    // as usual.
    ConversationStore chatStore;
    const QString chatPath = options.chatDatabase.isEmpty() ? ConversationStore::defaultPath()
                                                            : options.chatDatabase;
    if (chatStore.open(chatPath) != ConversationStore::OpenStatus::Ok) {
        const QString why = chatStore.openError();
        if (chatStore.openInMemory() == ConversationStore::OpenStatus::Ok)
            qWarning("%s", qPrintable(chatStore.openError()));
        window.showStatusMessage(why, 15000);
        auto* box = new QMessageBox(QMessageBox::Warning, QObject::tr("Chat history is off"), why,
                                    QMessageBox::Ok, &window);
        if (chatStore.isInMemory())
            box->setInformativeText(QObject::tr("Chat works, but conversations are kept in memory only "
                                                "and are lost when Batchscope quits."));
        box->setAttribute(Qt::WA_DeleteOnClose);
        QTimer::singleShot(0, box, [box] { box->open(); });  // once the window shows
    }
    ChatController chat(bridge, chatStore, window);
    // Quit commits a streaming answer as it stands (before the bridge cancels it).
    QObject::connect(&app, &QCoreApplication::aboutToQuit, &chat, &ChatController::shutdown);

    std::unique_ptr<QObject> apiServer;
    if (apiStarter()) {
        ApiEndpoint endpoint;
        apiServer = apiStarter()(bridge, options.port, endpoint);
        if (apiServer) window.setApiEndpoint(endpoint.url, endpoint.token);
    }

    // The first model: if it cannot be loaded, fall back to the simulated executor so the
    // window is usable; the error stays visible in the status bar and a message box.
    const QString first = initialModel(options);
    QObject::connect(&controller, &GuiController::modelLoadFailed, &controller,
                     [&controller, &bridge, first](const QString&) {
                         if (!bridge.hasEngine() && first != QLatin1String("simulated"))
                             controller.loadModel(QStringLiteral("simulated"));
                     });
    remote::LocalEngineSource localSource(bridge);  // feeds the Compare tab
    localSource.start();
    console.addLocal(&window, &localSource);
    for (const remote::ConnectionSpec& spec : connections) console.addRemote(spec);
    for (const QString& trace : options.traces) console.openTrace(trace);
    console.resize(1600, 1000);
    console.restoreGeometry(QSettings().value(QStringLiteral("window/geometry")).toByteArray());
    console.show();
    controller.loadModel(first);
    const int rc = app.exec();
    apiServer.reset();  // before the bridge: the server holds a reference to it
    return rc;
}

}  // namespace batchscope::app
