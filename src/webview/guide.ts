// The setup guide webview script (runs in the webview, not in Node).
