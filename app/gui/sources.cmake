# GUI wiring (included by app/CMakeLists.txt): runGui, the controller and the model loader.
target_sources(batchscope_app_gui PRIVATE
    gui/gui_main.cpp
    gui/gui_controller.cpp
    gui/model_loader.cpp
    gui/chat_controller.cpp
    gui/chat_template_choice.cpp
    gui/source_controller.cpp
    gui/connect_dialog.cpp
    gui/console_window.cpp
    gui/playback_controller.cpp
    gui/what_if_controller.cpp
)
set_target_properties(batchscope_app_gui PROPERTIES AUTOMOC ON)
qt_add_resources(batchscope_app_gui batchscope_icons
    PREFIX /batchscope
    BASE ${PROJECT_SOURCE_DIR}/resources
    FILES ${PROJECT_SOURCE_DIR}/resources/icons/batchscope-32.png
          ${PROJECT_SOURCE_DIR}/resources/icons/batchscope-64.png
          ${PROJECT_SOURCE_DIR}/resources/icons/batchscope-256.png)
# resources/icons/batchscope.svg is the source of the PNGs (Debian's Qt here has no SVG
# image plugin, so the application loads the PNGs).
