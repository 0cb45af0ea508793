export { stableBucket } from './bucketing/stable-bucket';
