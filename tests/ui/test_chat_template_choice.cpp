// SPDX-License-Identifier: GPL-3.0-or-later
// The chat template chosen per model in the model panel, driven through the real window, GUI
// controller and bridge (simulated model): the panel says which template is in use, a chosen
// file is applied to the running engine (chat turns render with it) and remembered for the
// model, re-applied when the window is recreated (a restart) and forgotten on "Model's own
// template"; a bad file changes nothing and says why; a remembered file that has gone is
// reported and the model's own is used. Settings live in a temporary ini file.
#include <QFile>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "app/bridge/engine_bridge.h"
#include "app/gui/chat_template_choice.h"
#include "app/gui/gui_controller.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"

using namespace batchscope;

namespace {

/// The window as runGui builds it, with the simulated model loaded through the model loader.
struct App {
    App() {
        window = std::make_unique<ui::MainWindow>();
        gui = std::make_unique<app::GuiController>(bridge, *window);
        gui->setInteractive(false);
    }
    bool load() {
        QSignalSpy loaded(gui.get(), &app::GuiController::modelLoaded);
        return gui->loadModel(QStringLiteral("simulated")) && loaded.wait(20000) && bridge.hasEngine();
    }
    ~App() {
        gui.reset();
        window.reset();
    }
    ui::ModelPanel& panel() { return *window->modelPanel(); }
    QString source() { return QString::fromStdString(bridge.engine()->modelInfo().chatTemplateSource); }
    QString shown() { return panel().valueOf(QStringLiteral("Chat template")); }
    /// A conversation rendered by the running engine on the bridge's worker thread.
    QString render() {
        QString text = QStringLiteral("(not rendered)");
        bool done = false;
        bridge.renderChatAsync({{"user", "hi"}}, [&](bool ok, const QString& t, int, const QString& error) {
            text = ok ? t : QStringLiteral("error: ") + error;
            done = true;
        });
        QTest::qWaitFor([&] { return done; }, 10000);
        return text;
    }

    app::EngineBridge bridge;  // destroyed last
    std::unique_ptr<ui::MainWindow> window;
    std::unique_ptr<app::GuiController> gui;
};

}  // namespace

class TestChatTemplateChoice : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void chosenFileIsAppliedAndRememberedAcrossRestarts();
    void badFileChangesNothing();
    void vanishedFileFallsBackToTheModelsOwn();
    void commandLineOverrideIsNotRemembered();
    void remoteTabsHaveNoTemplateChoice();

private:
    QString write(const QString& name, const QByteArray& text) {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(text) != text.size()) qFatal("cannot write %s", qPrintable(path));
        return path;
    }
    QTemporaryDir m_dir;
    QString m_good;
};

void TestChatTemplateChoice::initTestCase() {
    QVERIFY(m_dir.isValid());
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.path());
    QCoreApplication::setOrganizationName(QStringLiteral("batchscope-tests"));
    QSettings().clear();
    m_good = write(QStringLiteral("bracket.jinja"),
                   "{% for m in messages %}[{{ m.role }}]{{ m.content }}\n{% endfor %}"
                   "{% if add_generation_prompt %}[assistant]{% endif %}");
}

void TestChatTemplateChoice::chosenFileIsAppliedAndRememberedAcrossRestarts() {
    const QString builtin = QStringLiteral("built-in: chatml (simulated model)");
    {
        App a;
        QVERIFY(a.load());
        QCOMPARE(a.source(), builtin);
        QCOMPARE(a.shown(), QStringLiteral("built-in format chatml (simulated model)"));
        QVERIFY(a.panel().chatTemplateFileButton()->isEnabled());
        QVERIFY(!a.panel().chatTemplateResetButton()->isEnabled());
        QVERIFY(a.render().startsWith(QStringLiteral("<|im_start|>user\nhi")));

        // The panel's file dialog reports the choice; the running engine uses it at once.
        emit a.panel().chatTemplateFileChosen(m_good);
        QCOMPARE(a.source(), QStringLiteral("file: ") + m_good);
        QCOMPARE(a.shown(), QStringLiteral("file ") + m_good);
        QVERIFY(a.panel().chatTemplateResetButton()->isEnabled());
        QCOMPARE(a.render(), QStringLiteral("[user]hi\n[assistant]"));
        QCOMPARE(app::ChatTemplateChoice::fileFor(QStringLiteral("builtin:simulated")), m_good);
    }
    {
        App restarted;  // a new window, controller and bridge on the same settings
        QVERIFY(restarted.load());
        QCOMPARE(restarted.source(), QStringLiteral("file: ") + m_good);
        QCOMPARE(restarted.shown(), QStringLiteral("file ") + m_good);
        QVERIFY(restarted.panel().chatTemplateNote().isEmpty());
        QCOMPARE(restarted.render(), QStringLiteral("[user]hi\n[assistant]"));
        // Back to the model's own, and forgotten.
        restarted.panel().chatTemplateResetButton()->click();
        QCOMPARE(restarted.source(), builtin);
        QVERIFY(!restarted.panel().chatTemplateResetButton()->isEnabled());
        QVERIFY(restarted.render().startsWith(QStringLiteral("<|im_start|>user")));
    }
    App again;
    QVERIFY(again.load());
    QCOMPARE(again.source(), builtin);
}

void TestChatTemplateChoice::badFileChangesNothing() {
    const QString broken = write(QStringLiteral("broken.jinja"), "{% for m in messages %}{{ m.content }");
    App a;
    QVERIFY(a.load());
    QVERIFY(a.gui->setChatTemplateFile(m_good));
    QVERIFY(!a.gui->setChatTemplateFile(broken));
    QVERIFY2(a.gui->lastError().contains(broken), qPrintable(a.gui->lastError()));
    QVERIFY2(a.panel().chatTemplateNote().contains(broken), qPrintable(a.panel().chatTemplateNote()));
    QCOMPARE(a.source(), QStringLiteral("file: ") + m_good);  // the template in use stays
    QCOMPARE(app::ChatTemplateChoice::fileFor(QStringLiteral("builtin:simulated")), m_good);
    a.gui->resetChatTemplate();
    QVERIFY(app::ChatTemplateChoice::fileFor(QStringLiteral("builtin:simulated")).isEmpty());
}

void TestChatTemplateChoice::vanishedFileFallsBackToTheModelsOwn() {
    const QString gone = write(QStringLiteral("gone.jinja"), "{{ messages[0].content }}");
    {
        App a;
        QVERIFY(a.load());
        QVERIFY(a.gui->setChatTemplateFile(gone));
    }
    QVERIFY(QFile::remove(gone));
    App a;
    QVERIFY(a.load());
    QCOMPARE(a.source(), QStringLiteral("built-in: chatml (simulated model)"));
    const QString note = a.panel().chatTemplateNote();
    QVERIFY2(note.contains(gone) && note.contains(QStringLiteral("cannot be used")), qPrintable(note));
    a.gui->resetChatTemplate();
}

void TestChatTemplateChoice::commandLineOverrideIsNotRemembered() {
    {
        App a;
        a.gui->setChatTemplateOverride(m_good);  // `gui --chat-template FILE`
        QVERIFY(a.load());
        QCOMPARE(a.source(), QStringLiteral("file: ") + m_good);
        QVERIFY(app::ChatTemplateChoice::fileFor(QStringLiteral("builtin:simulated")).isEmpty());
        QVERIFY(a.load());  // the next model loaded: the override was for the first only
        QCOMPARE(a.source(), QStringLiteral("built-in: chatml (simulated model)"));
    }
}

void TestChatTemplateChoice::remoteTabsHaveNoTemplateChoice() {
    ui::MainWindow window;
    QVERIFY(window.modelPanel()->chatTemplateFileButton()->isVisibleTo(window.modelPanel()));
    window.setModelOpenEnabled(false);  // what a remote server's tab does
    QVERIFY(!window.modelPanel()->chatTemplateFileButton()->isVisibleTo(window.modelPanel()));
    QVERIFY(!window.modelPanel()->chatTemplateResetButton()->isVisibleTo(window.modelPanel()));
}

QTEST_MAIN(TestChatTemplateChoice)
#include "test_chat_template_choice.moc"
