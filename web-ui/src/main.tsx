import { render } from 'preact';
import { App } from './ui/App';
import { browserClient } from './ui/browser';
import './styles.css';

render(<App client={browserClient()} />, document.getElementById('app')!);
