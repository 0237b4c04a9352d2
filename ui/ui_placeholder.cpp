// Replaced by the UI sources.
namespace batchscope::ui { int uiPlaceholder() { return 0; } }
