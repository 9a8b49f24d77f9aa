//go:build !race

package config_test

const raceDetector = false
