namespace System.Runtime.CompilerServices;

// netstandard2.0 lacks this marker type; records need it for their init accessors.
static class IsExternalInit;
