# Reference prosody of arctic_a0007.wav, computed by the Praat program itself.
#
#   praat --run reference.praat > reference_praat.json
#
# (run in this folder; Praat reads the wav relative to the script). The analyses
# use the settings of skhanrock/datasets/_prosody.py (_praat_file), i.e. of
# extract_prosody(..., backend="praat") with its defaults, written out in full:
#   To Pitch (ac): time step 0.01 s, floor 75 Hz, 15 candidates, not very accurate,
#     silence 0.03, voicing 0.45, octave cost 0.01, octave-jump 0.35,
#     voiced/unvoiced 0.14, ceiling 600 Hz (parselmouth's Sound.to_pitch_ac defaults);
#   To Intensity: 75 Hz, 0.01 s, subtract mean (Sound.to_intensity defaults);
#   To Harmonicity (cc): 0.01 s, 75 Hz, silence 0.1, 1 period per window;
#   Sound & Pitch: To PointProcess (cc);
#   jitter (local): 0.0001, 0.02, 1.3; shimmer (local): 0.0001, 0.02, 1.3, 1.6.
# Each talkturn then reads the frames whose times lie in [start, end], exactly as
# extract_prosody documents its columns: median F0 of the voiced frames;
# 5th-95th percentile range of F0 in semitones (linear interpolation between
# order statistics, as numpy.percentile); least-squares slope of F0 in semitones
# per second; energy mean of the intensity frames (-300 dB frames left out);
# share of voiced pitch frames; Praat's mean HNR (Harmonicity: Get mean, which
# leaves out the -200 dB frames); silence before the start from 10 ms frames
# (160 samples) whose RMS level is 25 dB or more below the loudest frame's.
# For comparison it also prints Praat's own "Get quantile" range and
# "Intensity: Get mean (energy)", which define those two measures a little
# differently (other percentile rule; time-weighted mean).

file$ = "arctic_a0007.wav"
floor = 75
ceiling = 600
step = 0.01
silenceThreshold = -25
nTurns = 3
start# = {0.403, 1.953, 0}
end# = {1.823, 3.503, 4}

sound = Read from file: file$
rate = Get sampling frequency
nSamples = Get number of samples
duration = Get total duration
pitch = To Pitch (ac): step, floor, 15, "no", 0.03, 0.45, 0.01, 0.35, 0.14, ceiling
selectObject: sound
intensity = To Intensity: floor, step, "yes"
selectObject: sound
harmonicity = To Harmonicity (cc): step, floor, 0.1, 1.0
selectObject: sound, pitch
points = To PointProcess (cc)

# Frame levels for silence_before.
frameSamples = round (step * rate)
nFrames = floor (nSamples / frameSamples)
level# = zero# (nFrames)
rms# = zero# (nFrames)
for k to nFrames
	sum = 0
	for j to frameSamples
		x = object [sound, 1, (k - 1) * frameSamples + j]
		sum += x * x
	endfor
	rms# [k] = sqrt (sum / frameSamples)
	if rms# [k] > 0
		level# [k] = 20 * log10 (rms# [k])
	else
		level# [k] = -1e300
	endif
endfor
loudest = max (level#)

median# = zero# (nTurns)
writeInfoLine: "{"
appendInfoLine: "  ""praat_version"": """, praatVersion$, """,", " ""praat_version_number"": ", praatVersion, ","
appendInfoLine: "  ""clip"": """, file$, """, ""sample_rate"": ", rate, ", ""duration"": ", duration, ","
appendInfoLine: "  ""settings"": {""pitch_floor"": ", floor, ", ""pitch_ceiling"": ", ceiling, ", ""time_step"": ", step, ", ""silence_threshold_db"": ", silenceThreshold, "},"
appendInfoLine: "  ""talkturns"": ["
for turn to nTurns
	start = start# [turn]
	end = end# [turn]

	# Pitch frames inside the span; voiced ones have a defined value (counted, then read).
	selectObject: pitch
	n = Get number of frames
	nInside = 0
	nVoiced = 0
	for i to n
		t = Get time from frame number: i
		if t >= start and t <= end
			nInside += 1
			f = Get value in frame: i, "Hertz"
			if f <> undefined
				nVoiced += 1
			endif
		endif
	endfor
	voicedFraction = nVoiced / nInside
	hz# = zero# (nVoiced)
	time# = zero# (nVoiced)
	m = 0
	for i to n
		t = Get time from frame number: i
		if t >= start and t <= end
			f = Get value in frame: i, "Hertz"
			if f <> undefined
				m += 1
				hz# [m] = f
				time# [m] = t
			endif
		endif
	endfor
	# Semitones re 100 Hz, in time order (for the slope).
	y# = 12 * log2# (hz# / 100)
	hz# = sort# (hz#)
	if nVoiced mod 2 = 1
		median = hz# [(nVoiced + 1) / 2]
	else
		median = (hz# [nVoiced / 2] + hz# [nVoiced / 2 + 1]) / 2
	endif
	median# [turn] = median
	@percentile: sort# (y#), 0.05
	low = percentile.result
	@percentile: sort# (y#), 0.95
	high = percentile.result
	range = high - low
	quantileLow = Get quantile: start, end, 0.05, "semitones re 100 Hz"
	quantileHigh = Get quantile: start, end, 0.95, "semitones re 100 Hz"
	quantileRange = quantileHigh - quantileLow

	# Least-squares slope of semitones on time over the voiced frames.
	meanT = mean (time#)
	meanY = mean (y#)
	sxy = 0
	sxx = 0
	for i to nVoiced
		sxy += (time# [i] - meanT) * (y# [i] - meanY)
		sxx += (time# [i] - meanT) ^ 2
	endfor
	slope = sxy / sxx

	# Energy mean of the intensity frames inside the span.
	selectObject: intensity
	n = Get number of frames
	power = 0
	nLevel = 0
	for i to n
		t = Get time from frame number: i
		if t >= start and t <= end
			v = Get value in frame: i
			if v > -300
				power += 10 ^ (v / 10)
				nLevel += 1
			endif
		endif
	endfor
	intensityDb = 10 * log10 (power / nLevel)
	intensityPraatMean = Get mean: start, end, "energy"

	selectObject: harmonicity
	hnr = Get mean: start, end

	selectObject: points
	jitter = Get jitter (local): start, end, 0.0001, 0.02, 1.3
	selectObject: sound, points
	shimmer = Get shimmer (local): start, end, 0.0001, 0.02, 1.3, 1.6

	# Silence before the start: silent 10 ms frames in a row that end at its frame.
	index = round (start * rate / frameSamples)
	index = min (max (index, 0), nFrames)
	run = 0
	k = index
	while k >= 1
		if rms# [k] = 0 or level# [k] < loudest + silenceThreshold
			run += 1
			k -= 1
		else
			k = 0
		endif
	endwhile
	silenceBefore = min (run * frameSamples / rate, start)

	appendInfoLine: "    {""turn"": ", turn - 1, ", ""start"": ", start, ", ""end"": ", end, ","
	appendInfoLine: "     ""pitch_median_hz"": ", median, ","
	appendInfoLine: "     ""pitch_range_semitones"": ", range, ","
	appendInfoLine: "     ""pitch_slope"": ", slope, ","
	appendInfoLine: "     ""intensity_db"": ", intensityDb, ","
	appendInfoLine: "     ""voiced_fraction"": ", voicedFraction, ","
	appendInfoLine: "     ""jitter"": ", jitter, ","
	appendInfoLine: "     ""shimmer"": ", shimmer, ","
	appendInfoLine: "     ""hnr_db"": ", hnr, ","
	appendInfoLine: "     ""silence_before"": ", silenceBefore, ","
	appendInfoLine: "     ""n_pitch_frames"": ", nInside, ", ""n_voiced_frames"": ", nVoiced, ","
	appendInfoLine: "     ""praat_quantile_pitch_range_semitones"": ", quantileRange, ","
	appendInfoLine: "     ""praat_get_mean_intensity_db"": ", intensityPraatMean, "}", if turn < nTurns then "," else "" fi
endfor
appendInfoLine: "  ],"

# One speaker, one conversation: each turn's median against the median of the medians.
sorted# = sort# (median#)
if nTurns mod 2 = 1
	speakerMedian = sorted# [(nTurns + 1) / 2]
else
	speakerMedian = (sorted# [nTurns / 2] + sorted# [nTurns / 2 + 1]) / 2
endif
appendInfo: "  ""pitch_median_semitones_speaker"": ["
for turn to nTurns
	appendInfo: 12 * log2 (median# [turn] / speakerMedian), if turn < nTurns then ", " else "" fi
endfor
appendInfoLine: "]"
appendInfoLine: "}"

# numpy.percentile's default ("linear"): position p * (n - 1) between order statistics.
procedure percentile: .sorted#, .p
	.n = size (.sorted#)
	.h = .p * (.n - 1)
	.lo = floor (.h)
	if .lo + 1 >= .n
		.result = .sorted# [.n]
	else
		.result = .sorted# [.lo + 1] + (.h - .lo) * (.sorted# [.lo + 2] - .sorted# [.lo + 1])
	endif
endproc
