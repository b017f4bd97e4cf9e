/**
 * Chart.js with only what the report charts use (tree-shaken), imported lazily so the chart
 * code is its own chunk and never reaches the staff tablet's screens.
 */
import {
	BarController,
	BarElement,
	CategoryScale,
	Chart,
	Filler,
	Legend,
	LinearScale,
	LineController,
	LineElement,
	PointElement,
	Tooltip
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Filler, Tooltip, Legend);

export { Chart };
