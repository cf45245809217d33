import { render } from 'preact';
import { App } from './ui/App';
import { browserClient } from './ui/browser';
import { applyTheme, storedTheme } from './ui/theme';
import './styles.css';

applyTheme(storedTheme()); // before the first paint: no flash of the other theme

render(<App client={browserClient()} />, document.getElementById('app')!);
