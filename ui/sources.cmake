# UI sources (included by ui/CMakeLists.txt). Engine value-type headers only; no engine code.
target_sources(batchscope_ui PRIVATE
    display_text.cpp
    request_table_model.cpp
    request_filter_proxy.cpp
    priority_delegate.cpp
    request_table_view.cpp
    prompt_composer.cpp
    chat_message_widget.cpp
    chat_conversation_model.cpp
    chat_view.cpp
    timeline_bar.cpp
    output_pane.cpp
    chart_data.cpp
    live_chart.cpp
    batch_chart.cpp
    time_series_chart.cpp
    latency_histogram.cpp
    block_map_widget.cpp
    scheduler_controls.cpp
    model_panel.cpp
    status_summary.cpp
    main_window.cpp
    server_metrics_panel.cpp
    compare_chart.cpp
    compare_view.cpp
    playback_bar.cpp
    what_if_panel.cpp
)
# Help → About shows the version; same value as the engine's BATCHSCOPE_VERSION.
target_compile_definitions(batchscope_ui PRIVATE BATCHSCOPE_VERSION="${PROJECT_VERSION}")
set_target_properties(batchscope_ui PROPERTIES AUTOMOC ON)
