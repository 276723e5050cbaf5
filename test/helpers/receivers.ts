export * from '../../scripts/lab/receivers';
