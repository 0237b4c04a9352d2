// Replaced by the GUI wiring sources.
namespace batchscope::app { int guiPlaceholder() { return 0; } }
