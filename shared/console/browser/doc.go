// Package browser holds the console's tests in a real browser: headless
// Chromium from the OS packages (apt-get install chromium), driven through
// the DevTools protocol by chromedp against a fresh local server (make run
// in-process), clicking and typing as a person would. With CI=true a missing
// browser fails the run; otherwise these tests are skipped when no browser
// is installed. `make screenshots` runs TestScreenshots, which writes the
// images README shows. The package has no code outside its tests.
package browser
